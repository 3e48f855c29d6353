/* main.c — convscope: the application
 *
 * Run uninstalled as build/app/convscope: the data (checkpoints, presets)
 * comes from the source tree's data/, the settings schema and the
 * translations from the build folder's data/ and po/ (see cs-application.c).
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
  cs_application_bind_text_domain ();

  app = cs_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
