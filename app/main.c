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
  /* A locale that is not installed (LANG=zh_CN.UTF-8 where it was never
   * generated) would leave "C", under which gettext ignores LANGUAGE:
   * C.UTF-8, which glibc always has, keeps LANGUAGE=zh_CN working. */
  if (setlocale (LC_ALL, "") == NULL)
    setlocale (LC_ALL, "C.UTF-8");
  cs_application_bind_text_domain ();

  app = cs_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
