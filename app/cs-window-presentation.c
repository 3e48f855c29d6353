/* cs-window-presentation.c — presentation mode: for the back of the room
 *
 * Full screen; every view draws with larger type and thicker strokes in
 * high contrast (cs-style.h); the widgets around them get larger type
 * through the window's style class "presentation" (style.css). Leaving it
 * restores the size, the maximized state and the view from before.
 */
#include "config.h"

#include "cs-window-private.h"
#include "views/cs-style.h"

/* Every view measures and draws again: their type sizes changed. */
static void
redraw_tree (GtkWidget *widget)
{
  gtk_widget_queue_resize (widget);
  gtk_widget_queue_draw (widget);
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    redraw_tree (child);
}

/* The size from before, once more after the next frame: until then the
 * window's minimum is still that of presentation's larger type, and a
 * window manager that did not make the window full screen has made it
 * that large. */
static gboolean
restore_size (GtkWidget *widget, GdkFrameClock *clock, gpointer user_data)
{
  CsWindow *self = CS_WINDOW (widget);
  int *frames = user_data;

  if (!self->presentation && !self->saved_maximized)
    gtk_window_set_default_size (GTK_WINDOW (self), self->saved_width, self->saved_height);
  return ++*frames < 2 ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

gboolean
cs_window_get_presentation (CsWindow *self)
{
  g_return_val_if_fail (CS_IS_WINDOW (self), FALSE);
  return self->presentation;
}

void
cs_window_set_presentation (CsWindow *self, gboolean presentation)
{
  g_return_if_fail (CS_IS_WINDOW (self));

  presentation = !!presentation;
  if (presentation == self->presentation)
    return;
  self->presentation = presentation;

  GtkWindow *window = GTK_WINDOW (self);
  if (presentation)
    {
      gtk_window_get_default_size (window, &self->saved_width, &self->saved_height);
      self->saved_maximized = gtk_window_is_maximized (window);
      g_free (self->saved_view);
      self->saved_view = g_strdup (cs_window_get_view (self));
      gtk_widget_add_css_class (GTK_WIDGET (self), "presentation");
      cs_style_set_presentation (TRUE);
      gtk_window_fullscreen (window);
    }
  else
    {
      gtk_window_unfullscreen (window);
      gtk_widget_remove_css_class (GTK_WIDGET (self), "presentation");
      cs_style_set_presentation (FALSE);
      gtk_window_set_default_size (window, self->saved_width, self->saved_height);
      if (self->saved_maximized)
        gtk_window_maximize (window);
      else
        gtk_window_unmaximize (window);
      if (self->saved_view != NULL && gtk_stack_get_child_by_name (self->stack, self->saved_view))
        cs_window_set_view (self, self->saved_view);
      gtk_widget_add_tick_callback (GTK_WIDGET (self), restore_size, g_new0 (int, 1), g_free);
    }
  redraw_tree (GTK_WIDGET (self));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.leave-presentation", presentation);
  g_object_notify (G_OBJECT (self), "presentation");
}

static void
leave_presentation_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  cs_window_set_presentation (CS_WINDOW (widget), FALSE);
}

void
_cs_window_class_presentation_init (CsWindowClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  /* win.presentation: its state is property "presentation" */
  gtk_widget_class_install_property_action (widget_class, "win.presentation", "presentation");
  gtk_widget_class_install_action (widget_class, "win.leave-presentation", NULL,
                                   leave_presentation_action);
}
