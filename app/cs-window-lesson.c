/* cs-window-lesson.c — the guided lesson: a panel of pages beside the views
 *
 * Each page (cs-lesson.h) shows its view with the part it is about
 * highlighted (cs_view_set_highlight ()), and its PyTorch code in the
 * panel. Turning the page takes the highlight off the view before.
 */
#include "config.h"

#include "cs-lesson.h"
#include "cs-window-private.h"
#include "views/cs-view.h"

#include <glib/gi18n.h>

static CsLessonPage *
page_at (CsWindow *self, int page)
{
  if (self->lesson_pages == NULL || page < 0 || (guint) page >= self->lesson_pages->len)
    return NULL;
  return g_ptr_array_index (self->lesson_pages, page);
}

/* The view a page names, if the window has it and it is a CsView */
static CsView *
page_view (CsWindow *self, CsLessonPage *page)
{
  GtkWidget *view = gtk_stack_get_child_by_name (self->stack, cs_lesson_page_get_view (page));
  return view != NULL && CS_IS_VIEW (view) ? CS_VIEW (view) : NULL;
}

static gboolean
ensure_pages (CsWindow *self)
{
  g_autoptr(GError) error = NULL;

  if (self->lesson_pages != NULL)
    return TRUE;
  self->lesson_pages = cs_lesson_load (CS_LESSON_RESOURCE, &error);
  if (self->lesson_pages == NULL)
    {
      g_autofree char *text = g_strdup_printf (_("The lesson could not be opened: %s"),
                                               error->message);
      cs_window_show_message (self, text, TRUE);
      return FALSE;
    }
  return TRUE;
}

guint
cs_window_get_n_lesson_pages (CsWindow *self)
{
  g_return_val_if_fail (CS_IS_WINDOW (self), 0);
  return ensure_pages (self) ? self->lesson_pages->len : 0;
}

int
cs_window_get_lesson_page (CsWindow *self)
{
  g_return_val_if_fail (CS_IS_WINDOW (self), -1);
  return self->lesson_page;
}

void
cs_window_set_lesson_page (CsWindow *self, int page)
{
  g_return_if_fail (CS_IS_WINDOW (self));

  if (page >= 0 && !ensure_pages (self))
    page = -1;
  g_return_if_fail (page < 0 || (guint) page < self->lesson_pages->len);
  if (page < 0)
    page = -1;

  gboolean was_open = self->lesson_page >= 0;
  CsLessonPage *before = page_at (self, self->lesson_page);
  CsLessonPage *now = page_at (self, page);
  CsView *view;

  if (before != NULL && (view = page_view (self, before)) != NULL)
    cs_view_set_highlight (view, NULL);
  self->lesson_page = page;

  if (now != NULL)
    {
      const char *name = cs_lesson_page_get_view (now);
      const char *highlight = cs_lesson_page_get_highlight (now);
      view = page_view (self, now);
      if (view == NULL)
        {
          g_autofree char *text = g_strdup_printf (_("This page of the lesson is about the view “%s”, "
                                                     "which is missing"), name);
          cs_window_show_message (self, text, TRUE);
        }
      else
        {
          cs_window_set_view (self, name);
          if (highlight != NULL && cs_view_has_highlight (view, highlight))
            cs_view_set_highlight (view, highlight);
          else if (highlight != NULL)
            g_warning ("lesson page %d: the view “%s” has no part “%s” to highlight", page + 1, name,
                       highlight);
        }

      /* TRANSLATORS: the lesson's page counter, e.g. "Lesson · 3 of 12" */
      g_autofree char *counter = g_strdup_printf (_("Lesson · %d of %u"), page + 1,
                                                  self->lesson_pages->len);
      gtk_label_set_text (self->lesson_counter, counter);
      gtk_label_set_text (self->lesson_title, cs_lesson_page_get_title (now));
      gtk_label_set_text (self->lesson_text, cs_lesson_page_get_text (now));
      const char *code = cs_lesson_page_get_code (now);
      gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->lesson_code), code ? code : "", -1);
    }
  gtk_revealer_set_reveal_child (self->lesson_revealer, now != NULL);

  _cs_window_lesson_update (self);
  if (was_open != (self->lesson_page >= 0))
    g_object_notify (G_OBJECT (self), "lesson");
}

void
_cs_window_lesson_update (CsWindow *self)
{
  int page = self->lesson_page;
  guint n = self->lesson_pages != NULL ? self->lesson_pages->len : 0;

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.lesson-back", page > 0);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.lesson-next", page >= 0 && (guint) page + 1 < n);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.lesson-copy", page >= 0);
}

static void
lesson_next_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  CsWindow *self = CS_WINDOW (widget);
  if (self->lesson_page >= 0 && (guint) self->lesson_page + 1 < self->lesson_pages->len)
    cs_window_set_lesson_page (self, self->lesson_page + 1);
}

static void
lesson_back_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  CsWindow *self = CS_WINDOW (widget);
  if (self->lesson_page > 0)
    cs_window_set_lesson_page (self, self->lesson_page - 1);
}

static void
lesson_copy_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  CsWindow *self = CS_WINDOW (widget);
  CsLessonPage *page = page_at (self, self->lesson_page);
  if (page == NULL || cs_lesson_page_get_code (page) == NULL)
    return;
  gdk_clipboard_set_text (gtk_widget_get_clipboard (widget), cs_lesson_page_get_code (page));
  cs_window_show_message (self, _("The code is on the clipboard"), FALSE);
}

void
_cs_window_class_lesson_init (CsWindowClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  /* win.lesson opens and closes the lesson: its state is property "lesson" */
  gtk_widget_class_install_property_action (widget_class, "win.lesson", "lesson");
  gtk_widget_class_install_action (widget_class, "win.lesson-next", NULL, lesson_next_action);
  gtk_widget_class_install_action (widget_class, "win.lesson-back", NULL, lesson_back_action);
  gtk_widget_class_install_action (widget_class, "win.lesson-copy", NULL, lesson_copy_action);
  /* Page Down and Page Up turn the lesson's pages when the focused widget
   * does not use them: the class's bindings come in the bubble phase,
   * after the widget (the Mistakes gallery, a spin button), where the
   * application's accelerators would come before it. */
  const struct { guint key; const char *action; } pages[] = {
    { GDK_KEY_Page_Down, "win.lesson-next" }, { GDK_KEY_KP_Page_Down, "win.lesson-next" },
    { GDK_KEY_Page_Up, "win.lesson-back" }, { GDK_KEY_KP_Page_Up, "win.lesson-back" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (pages); i++)
    gtk_widget_class_add_binding_action (widget_class, pages[i].key, 0, pages[i].action, NULL);
}
