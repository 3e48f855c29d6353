/* cs-cli.h — the subcommands of convscope-cli
 *
 * Each takes the arguments after the command's name (argv[0] is the name)
 * and returns the process's exit status: 0 on success, 1 when the work
 * failed, 2 for bad usage or a bad argument, with one line on stderr.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* convscope-cli convolve: the worked example of the Convolution view. */
int cs_cli_convolve (int argc, char **argv);

G_END_DECLS
