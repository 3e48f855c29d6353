/* paths.h — where Convscope's data files are
 *
 * Looked up in order: $CONVSCOPE_DATA_DIR, the source tree's data/ (so the
 * programs and tests run uninstalled), then the installed data directory.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* relative: e.g. "models/mlp.json". Returns a path that exists, or NULL. */
char *cs_find_data_file (const char *relative);

G_END_DECLS
