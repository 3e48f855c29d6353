/* paths.h — where Convscope's data files are
 *
 * Looked up in order: the source tree's data/ (so the programs and tests run
 * uninstalled), then the installed data directory; $CONVSCOPE_DATA_DIR, when
 * set, replaces both.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* relative: e.g. "models/mlp.json". Returns a path that exists, or NULL. */
char *cs_find_data_file     (const char *relative);
/* The folders looked in, for messages: "/a, /b". */
char *cs_data_dirs_describe (void);

G_END_DECLS
