/* cs-window.h — the main window: a header bar with the view switcher, and the views
 *
 * Every view is a CsView widget in a GtkStack. Adding one is one call,
 * cs_window_add_view (); it then has a button in the switcher, the action
 * win.show-view::NAME and the accelerator Alt+N (N its position, up to 9),
 * and can be exported as PNG, SVG or PDF (win.export, Ctrl+E).
 */
#pragma once

#include <gtk/gtk.h>

#include "cs-application.h"
#include "cs-session.h"

G_BEGIN_DECLS

#define CS_TYPE_WINDOW (cs_window_get_type ())
G_DECLARE_FINAL_TYPE (CsWindow, cs_window, CS, WINDOW, GtkApplicationWindow)

/* A window on the application's session, remembering its size and view in
 * the application's settings. */
CsWindow   *cs_window_new                  (CsApplication *application);
CsSession  *cs_window_get_session          (CsWindow      *self);

/* Adds view (a CsView widget; the window takes the floating reference) as
 * page name, shown as title with icon_name in the switcher. The first view
 * added, or the one the settings remember, is shown. */
void        cs_window_add_view             (CsWindow      *self,
                                            const char    *name,
                                            const char    *title,
                                            const char    *icon_name,
                                            GtkWidget     *view);
/* The view shown, by page name (property "view"). */
const char *cs_window_get_view             (CsWindow      *self);
void        cs_window_set_view             (CsWindow      *self,
                                            const char    *name);
GtkWidget  *cs_window_get_view_widget      (CsWindow      *self,
                                            const char    *name);

/* Draws the view shown, at its size on screen, into path: PNG, SVG or PDF
 * by the extension. Nothing is left at path on failure. */
gboolean    cs_window_export_view          (CsWindow      *self,
                                            const char    *path,
                                            GError       **error);

/* One message in the banner under the header bar; warning: with a warning
 * icon, and it stays until dismissed; otherwise it goes after a while. */
void        cs_window_show_message         (CsWindow      *self,
                                            const char    *message,
                                            gboolean       warning);

/* The guided lesson (win.lesson, F9; property "lesson"): a panel beside
 * the views whose pages (cs-lesson.h) each show a view with a part of it
 * highlighted; win.lesson-next and win.lesson-back (Page Down / Page Up,
 * Alt+→ / Alt+←) turn the pages. */
guint       cs_window_get_n_lesson_pages   (CsWindow      *self);
/* The page shown, 0 … n − 1; −1 when the lesson is closed. */
int         cs_window_get_lesson_page      (CsWindow      *self);
/* Opens the lesson at page (−1 closes it). */
void        cs_window_set_lesson_page      (CsWindow      *self,
                                            int            page);

/* Presentation mode (win.presentation, F5; property "presentation"): full
 * screen, larger type and thicker strokes in every view, high contrast;
 * leaving it (F5 or Escape) restores the window's size, maximized state
 * and view. */
gboolean    cs_window_get_presentation     (CsWindow      *self);
void        cs_window_set_presentation     (CsWindow      *self,
                                            gboolean       presentation);

/* Opens a session file (cs_session_open ()); a file that cannot be opened
 * is said in the banner, and nothing changes. */
gboolean    cs_window_open_session         (CsWindow      *self,
                                            const char    *path);

G_END_DECLS
