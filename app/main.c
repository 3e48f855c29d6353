/* main.c — convscope: the application
 *
 * Run uninstalled as build/app/convscope: the data (checkpoints, presets)
 * comes from the source tree's data/, and the settings schema from the
 * build folder's data/ (see cs-application.c).
 */
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>

#include "cs-application.h"
#include "core/tensor.h"

int
main (int argc, char *argv[])
{
  g_autoptr(CsApplication) app = NULL;

  cs_memory_keep_pages ();
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  app = cs_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
