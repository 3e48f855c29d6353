/* cs-window-private.h — the window's instance, for its actions */
#pragma once

#include "cs-window.h"

G_BEGIN_DECLS

struct _CsWindow
{
  GtkApplicationWindow  parent_instance;

  /* Owned references */
  CsSession            *session;
  GSettings            *settings;        /* NULL when the schema is not installed */
  GtkNativeDialog      *export_dialog;
  GtkNativeDialog      *session_dialog;  /* Open or Save As, while shown */
  char                 *restore_view;    /* the view the settings remember */
  guint                 banner_timeout;
  guint                 n_views;

  /* Owned by the window */
  GtkShortcutController *view_shortcuts;

  /* The guided lesson (cs-window-lesson.c) */
  GPtrArray            *lesson_pages;    /* of CsLessonPage, loaded when first opened */
  int                   lesson_page;     /* the page shown; −1: the lesson is closed */

  /* Presentation mode (cs-window-presentation.c) and what leaving restores */
  gboolean              presentation;
  int                   saved_width, saved_height;
  gboolean              saved_maximized;
  char                 *saved_view;

  /* Template widgets */
  GtkHeaderBar         *header_bar;
  GtkBox               *switcher;
  GtkMenuButton        *primary_menu_button;
  GtkWidget            *banner;
  GtkImage             *banner_icon;
  GtkLabel             *banner_label;
  GtkStack             *stack;
  GtkRevealer          *lesson_revealer;
  GtkLabel             *lesson_counter;
  GtkLabel             *lesson_title;
  GtkLabel             *lesson_text;
  GtkTextView          *lesson_code;
};

void _cs_window_class_actions_init (CsWindowClass *klass);
void _cs_window_actions_update     (CsWindow      *self);
/* The title: the session's file name, or the application's name. */
void _cs_window_update_title       (CsWindow      *self);

void _cs_window_class_lesson_init       (CsWindowClass *klass);
void _cs_window_lesson_update           (CsWindow      *self);
void _cs_window_class_presentation_init (CsWindowClass *klass);

G_END_DECLS
