/* window-fixture.h — the real application and its window, for the tests
 * that drive it on a display (tests/gui/run-xvfb.sh)
 */
#pragma once

#include <gtk/gtk.h>
#include <stdio.h>

#include "app/cs-application.h"
#include "app/cs-window.h"

/* GTK up, the application registered and activated, and its window drawn
 * once; *app gets the application. NULL, having said SKIP in TAP, when
 * there is no display. */
static inline CsWindow *
start_window (int *argc, char ***argv, CsApplication **app)
{
  if (g_getenv ("DISPLAY") == NULL && g_getenv ("WAYLAND_DISPLAY") == NULL)
    {
      printf ("1..0 # SKIP no display (run under tests/gui/run-xvfb.sh)\n");
      return NULL;
    }
  gtk_test_init (argc, argv, NULL);

  *app = cs_application_new ();
  g_application_set_flags (G_APPLICATION (*app), G_APPLICATION_NON_UNIQUE);
  g_autoptr(GError) error = NULL;
  g_assert_true (g_application_register (G_APPLICATION (*app), NULL, &error));
  g_assert_no_error (error);
  g_application_activate (G_APPLICATION (*app));
  CsWindow *window = CS_WINDOW (gtk_application_get_windows (GTK_APPLICATION (*app))->data);
  gtk_test_widget_wait_for_draw (GTK_WIDGET (window));
  return window;
}
