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
  char                 *restore_view;    /* the view the settings remember */
  guint                 banner_timeout;
  guint                 n_views;

  /* Owned by the window */
  GtkShortcutController *view_shortcuts;

  /* Template widgets */
  GtkHeaderBar         *header_bar;
  GtkBox               *switcher;
  GtkMenuButton        *primary_menu_button;
  GtkWidget            *banner;
  GtkImage             *banner_icon;
  GtkLabel             *banner_label;
  GtkStack             *stack;
};

void _cs_window_class_actions_init (CsWindowClass *klass);
void _cs_window_actions_update     (CsWindow      *self);

G_END_DECLS
