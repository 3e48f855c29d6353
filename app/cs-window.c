/* cs-window.c — the main window */
#include "config.h"

#include "cs-window-private.h"

#include "views/cs-backward-view.h"
#include "views/cs-conv-view.h"
#include "views/cs-draw-view.h"
#include "views/cs-gradients-view.h"
#include "views/cs-mistakes-view.h"
#include "views/cs-network-view.h"
#include "views/cs-pool-view.h"
#include "views/cs-training-view.h"
#include "views/cs-view.h"

#include <glib/gi18n.h>

G_DEFINE_FINAL_TYPE (CsWindow, cs_window, GTK_TYPE_APPLICATION_WINDOW)

enum {
  PROP_0,
  PROP_SESSION,
  PROP_SETTINGS,
  PROP_VIEW,
  PROP_LESSON,
  PROP_PRESENTATION,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

CsWindow *
cs_window_new (CsApplication *application)
{
  g_return_val_if_fail (CS_IS_APPLICATION (application), NULL);

  return g_object_new (CS_TYPE_WINDOW,
                       "application", application,
                       "session", cs_application_get_session (application),
                       "settings", cs_application_get_settings (application),
                       NULL);
}

CsSession *
cs_window_get_session (CsWindow *self)
{
  g_return_val_if_fail (CS_IS_WINDOW (self), NULL);
  return self->session;
}

void
cs_window_add_view (CsWindow   *self,
                    const char *name,
                    const char *title,
                    const char *icon_name,
                    GtkWidget  *view)
{
  g_return_if_fail (CS_IS_WINDOW (self));
  g_return_if_fail (name != NULL && title != NULL);
  g_return_if_fail (CS_IS_VIEW (view));
  g_return_if_fail (gtk_stack_get_child_by_name (self->stack, name) == NULL);

  GtkStackPage *page = gtk_stack_add_titled (self->stack, view, name, title);
  gtk_accessible_update_property (GTK_ACCESSIBLE (view), GTK_ACCESSIBLE_PROPERTY_LABEL, title, -1);
  gtk_stack_page_set_icon_name (page, icon_name);
  self->n_views++;

  /* A toggle button in the switcher, icon and title, on win.show-view::name */
  GtkWidget *button = gtk_toggle_button_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  if (icon_name != NULL)
    gtk_box_append (GTK_BOX (box), g_object_new (GTK_TYPE_IMAGE,
                                                 "icon-name", icon_name,
                                                 "accessible-role", GTK_ACCESSIBLE_ROLE_PRESENTATION,
                                                 NULL));
  gtk_box_append (GTK_BOX (box), gtk_label_new (title));
  gtk_button_set_child (GTK_BUTTON (button), box);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "win.show-view");
  gtk_actionable_set_action_target_value (GTK_ACTIONABLE (button), g_variant_new_string (name));
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL, title, -1);
  if (self->n_views <= 9)
    {
      g_autofree char *tip = g_strdup_printf (_("%s (Alt+%u)"), title, self->n_views);
      gtk_widget_set_tooltip_text (button, tip);

      g_autofree char *accel = g_strdup_printf ("<Alt>%u", self->n_views);
      GtkShortcut *shortcut = gtk_shortcut_new (gtk_shortcut_trigger_parse_string (accel),
                                                gtk_named_action_new ("win.show-view"));
      gtk_shortcut_set_arguments (shortcut, g_variant_new_string (name));
      gtk_shortcut_controller_add_shortcut (self->view_shortcuts, shortcut);
    }
  gtk_box_append (self->switcher, button);

  if (g_strcmp0 (name, self->restore_view) == 0)
    gtk_stack_set_visible_child (self->stack, view);
  _cs_window_actions_update (self);
}

const char *
cs_window_get_view (CsWindow *self)
{
  g_return_val_if_fail (CS_IS_WINDOW (self), NULL);
  return gtk_stack_get_visible_child_name (self->stack);
}

void
cs_window_set_view (CsWindow *self, const char *name)
{
  g_return_if_fail (CS_IS_WINDOW (self));
  g_return_if_fail (name != NULL);

  GtkWidget *child = gtk_stack_get_child_by_name (self->stack, name);
  if (child == NULL)
    {
      g_critical ("%s: the window has no view “%s”", G_STRFUNC, name);
      return;
    }
  gtk_stack_set_visible_child (self->stack, child);
}

GtkWidget *
cs_window_get_view_widget (CsWindow *self, const char *name)
{
  g_return_val_if_fail (CS_IS_WINDOW (self), NULL);
  return name ? gtk_stack_get_child_by_name (self->stack, name)
              : gtk_stack_get_visible_child (self->stack);
}

gboolean
cs_window_export_view (CsWindow *self, const char *path, GError **error)
{
  g_return_val_if_fail (CS_IS_WINDOW (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  GtkWidget *view = gtk_stack_get_visible_child (self->stack);
  CsExportFormat format;
  if (view == NULL || !CS_IS_VIEW (view))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                           _("There is no view to export"));
      return FALSE;
    }
  if (!cs_export_format_from_path (path, &format))
    {
      g_autofree char *base = g_path_get_basename (path);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_FILENAME,
                   _("“%s” does not end in .png, .svg or .pdf"), base);
      return FALSE;
    }
  int width = gtk_widget_get_width (view), height = gtk_widget_get_height (view);
  if (width <= 0 || height <= 0)
    width = 1280, height = 720;
  return cs_view_export (CS_VIEW (view), path, format, width, height, error);
}

static gboolean
hide_banner (gpointer user_data)
{
  CsWindow *self = user_data;
  self->banner_timeout = 0;
  gtk_widget_set_visible (self->banner, FALSE);
  return G_SOURCE_REMOVE;
}

void
cs_window_show_message (CsWindow *self, const char *message, gboolean warning)
{
  g_return_if_fail (CS_IS_WINDOW (self));
  g_return_if_fail (message != NULL);

  g_clear_handle_id (&self->banner_timeout, g_source_remove);
  gtk_label_set_text (self->banner_label, message);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->banner_label),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, message, -1);
  gtk_image_set_from_icon_name (self->banner_icon,
                                warning ? "dialog-warning-symbolic" : "emblem-ok-symbolic");
  if (warning)
    gtk_widget_add_css_class (self->banner, "warning");
  else
    {
      gtk_widget_remove_css_class (self->banner, "warning");
      self->banner_timeout = g_timeout_add_seconds (5, hide_banner, self);
    }
  gtk_widget_set_visible (self->banner, TRUE);
}

static void
on_visible_child_changed (CsWindow *self)
{
  if (self->session != NULL)
    cs_session_set_view (self->session, cs_window_get_view (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_VIEW]);
}

/* A session opened shows the view it was saved in. */
static void
on_session_view (CsWindow *self)
{
  const char *view = cs_session_get_view (self->session);
  if (view != NULL && gtk_stack_get_child_by_name (self->stack, view) != NULL)
    gtk_stack_set_visible_child_name (self->stack, view);
}

static void
cs_window_save_state (CsWindow *self)
{
  if (self->settings == NULL)
    return;

  int width, height;
  gtk_window_get_default_size (GTK_WINDOW (self), &width, &height);
  g_settings_delay (self->settings);
  g_settings_set_int (self->settings, "window-width", width);
  g_settings_set_int (self->settings, "window-height", height);
  g_settings_set_boolean (self->settings, "window-maximized", gtk_window_is_maximized (GTK_WINDOW (self)));
  const char *view = cs_window_get_view (self);
  if (view != NULL)
    g_settings_set_string (self->settings, "view", view);
  g_settings_apply (self->settings);
  /* the application may quit right after: write it out now */
  g_settings_sync ();
}

static gboolean
cs_window_close_request (GtkWindow *window)
{
  CsWindow *self = CS_WINDOW (window);
  g_autoptr(GError) error = NULL;

  /* the size and view to remember are those from before presenting */
  cs_window_set_presentation (self, FALSE);
  cs_window_save_state (self);
  /* what was done since the last autosave is kept too */
  if (!cs_session_autosave_now (self->session, &error))
    g_message ("The session could not be autosaved: %s", error->message);
  return GTK_WINDOW_CLASS (cs_window_parent_class)->close_request (window);
}

static void
on_conv_spec_changed (CsConvView *conv, CsPoolView *pool)
{
  cs_pool_view_set_spec (pool, cs_conv_view_get_spec (conv));
}

static void
on_conv_spec_changed_backward (CsConvView *conv, CsBackwardView *backward)
{
  cs_backward_view_set_spec (backward, cs_conv_view_get_spec (conv));
}

/* The Network view shows the session's latest forward pass; the copy is
 * taken only while the view is on screen. */
static void
on_prediction_changed (CsSession *session, CsNetworkView *network)
{
  if (gtk_widget_get_mapped (GTK_WIDGET (network)))
    cs_network_view_set_snapshot (network, cs_session_get_snapshot (session));
}

static void
on_network_mapped (CsNetworkView *network, CsSession *session)
{
  cs_network_view_set_snapshot (network, cs_session_get_snapshot (session));
  /* Freeze and Zero act on the training run (made now if need be) */
  cs_network_view_set_training (network, cs_session_get_training (session, NULL));
}

/* The Gradients view follows the training run while it is on screen: every
 * update when paused, at most every 100 ms while the run plays (a redraw
 * takes a few milliseconds of the processor the trainer wants). */
#define GRADIENTS_REDRAW_US (100 * 1000)

static void
on_training_updated (CsTraining *training, CsGradientsView *view)
{
  if (!gtk_widget_get_mapped (GTK_WIDGET (view)))
    return;
  gint64 now = g_get_monotonic_time ();
  gint64 *last = g_object_get_data (G_OBJECT (view), "cs-last-update");
  if (cs_training_get_playing (training) && now - *last < GRADIENTS_REDRAW_US)
    return;
  *last = now;
  cs_gradients_view_set_history (view, cs_training_get_history (training));
  CsTrainingFrame *frame = cs_training_get_frame (training);
  if (frame != NULL && frame->snapshot != cs_gradients_view_get_snapshot (view))
    cs_gradients_view_set_snapshot (view, frame->snapshot);
}

static void
on_gradients_mapped (CsGradientsView *view, CsWindow *self)
{
  g_autoptr(GError) error = NULL;
  CsTraining *training = cs_session_get_training (self->session, &error);
  if (training == NULL)
    {
      cs_window_show_message (self, error->message, TRUE);
      return;
    }
  if (g_object_get_data (G_OBJECT (view), "cs-last-update") == NULL)
    {
      g_object_set_data_full (G_OBJECT (view), "cs-last-update", g_new0 (gint64, 1), g_free);
      g_signal_connect_object (training, "updated", G_CALLBACK (on_training_updated), view, 0);
    }
  *(gint64 *) g_object_get_data (G_OBJECT (view), "cs-last-update") = 0;
  on_training_updated (training, view);
}

/* A digit of the Mistakes view's gallery: into the Draw view, as it is. */
static void
on_example_activated (CsMistakesView *view, guint index, CsWindow *self)
{
  const CsDataset *test = cs_mistakes_get_dataset (cs_mistakes_view_get_mistakes (view));
  float pixels[CS_SESSION_PIXELS];
  gint32 label;

  g_return_if_fail (test != NULL && index < test->n);
  g_return_if_fail (test->rows * test->cols == CS_SESSION_PIXELS);
  cs_dataset_fill_batch (test, &index, 1, pixels, &label);
  g_autofree char *caption = g_strdup_printf (_("Test digit %u, a %d"), index, label);
  cs_draw_view_load_image (CS_DRAW_VIEW (cs_window_get_view_widget (self, "draw")), pixels,
                           caption);
  cs_window_set_view (self, "draw");
}

static void
cs_window_add_views (CsWindow *self)
{
  /* One line per view, in the order of a lesson's story; the first is
   * shown unless the settings say otherwise. */
  cs_window_add_view (self, "draw", _("Draw"), "document-edit-symbolic",
                      cs_draw_view_new (self->session));

  GtkWidget *conv = cs_conv_view_new ();
  GtkWidget *pool = cs_pool_view_new ();
  GtkWidget *backward = cs_backward_view_new ();
  cs_pool_view_set_spec (CS_POOL_VIEW (pool), cs_conv_view_get_spec (CS_CONV_VIEW (conv)));
  cs_backward_view_set_spec (CS_BACKWARD_VIEW (backward),
                             cs_conv_view_get_spec (CS_CONV_VIEW (conv)));
  /* the pooling and Backward views follow the example the Convolution view edits */
  g_signal_connect_object (conv, "spec-changed", G_CALLBACK (on_conv_spec_changed), pool, 0);
  g_signal_connect_object (conv, "spec-changed", G_CALLBACK (on_conv_spec_changed_backward),
                           backward, 0);
  cs_window_add_view (self, "convolution", _("Convolution"), "view-grid-symbolic", conv);
  cs_window_add_view (self, "pooling", _("ReLU, pooling, flatten"), "view-paged-symbolic", pool);
  cs_window_add_view (self, "backward", _("Backward"), "media-seek-backward-symbolic", backward);

  GtkWidget *network = cs_network_view_new ();
  g_signal_connect_object (self->session, "prediction-changed",
                           G_CALLBACK (on_prediction_changed), network, 0);
  g_signal_connect_object (network, "map", G_CALLBACK (on_network_mapped), self->session, 0);
  cs_window_add_view (self, "network", _("Network"), "network-workgroup-symbolic", network);

  cs_window_add_view (self, "training", _("Training"), "media-playback-start-symbolic",
                      cs_training_view_new (self->session, self->settings));

  GtkWidget *gradients = cs_gradients_view_new ();
  g_signal_connect_object (gradients, "map", G_CALLBACK (on_gradients_mapped), self, 0);
  cs_window_add_view (self, "gradients", _("Gradients"), "go-bottom-symbolic", gradients);

  g_autoptr(CsMistakes) evaluation = cs_mistakes_new (self->session);
  GtkWidget *mistakes = cs_mistakes_view_new (evaluation);
  g_signal_connect_object (mistakes, "example-activated", G_CALLBACK (on_example_activated), self, 0);
  cs_window_add_view (self, "mistakes", _("Mistakes"), "dialog-question-symbolic", mistakes);
}

static void
cs_window_constructed (GObject *object)
{
  CsWindow *self = (CsWindow *) object;

  G_OBJECT_CLASS (cs_window_parent_class)->constructed (object);

  if (self->session == NULL)
    self->session = cs_session_new ();
  if (self->settings != NULL)
    {
      gtk_window_set_default_size (GTK_WINDOW (self),
                                   g_settings_get_int (self->settings, "window-width"),
                                   g_settings_get_int (self->settings, "window-height"));
      if (g_settings_get_boolean (self->settings, "window-maximized"))
        gtk_window_maximize (GTK_WINDOW (self));
      self->restore_view = g_settings_get_string (self->settings, "view");
    }

  cs_window_add_views (self);
  cs_session_set_view (self->session, cs_window_get_view (self));
  g_signal_connect_object (self->session, "notify::view", G_CALLBACK (on_session_view), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->session, "notify::file", G_CALLBACK (_cs_window_update_title),
                           self, G_CONNECT_SWAPPED);
  _cs_window_update_title (self);

  const char *message = cs_session_get_message (self->session);
  if (message != NULL)
    cs_window_show_message (self, message, TRUE);
}

static void
cs_window_dispose (GObject *object)
{
  CsWindow *self = (CsWindow *) object;

  if (self->export_dialog != NULL)
    gtk_native_dialog_destroy (self->export_dialog);
  g_clear_object (&self->export_dialog);
  if (self->session_dialog != NULL)
    gtk_native_dialog_destroy (self->session_dialog);
  g_clear_object (&self->session_dialog);
  g_clear_handle_id (&self->banner_timeout, g_source_remove);
  /* No gtk_widget_dispose_template (): GtkWindow's dispose unparents its
   * child and title bar itself (GTK 4.8 would unparent them twice). */
  g_clear_object (&self->session);
  g_clear_object (&self->settings);
  g_clear_pointer (&self->restore_view, g_free);
  g_clear_pointer (&self->lesson_pages, g_ptr_array_unref);
  g_clear_pointer (&self->saved_view, g_free);

  G_OBJECT_CLASS (cs_window_parent_class)->dispose (object);
}

static void
cs_window_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  CsWindow *self = CS_WINDOW (object);

  switch (prop_id)
    {
    case PROP_SESSION:
      g_value_set_object (value, self->session);
      break;

    case PROP_SETTINGS:
      g_value_set_object (value, self->settings);
      break;

    case PROP_VIEW:
      g_value_set_string (value, cs_window_get_view (self));
      break;

    case PROP_LESSON:
      g_value_set_boolean (value, self->lesson_page >= 0);
      break;

    case PROP_PRESENTATION:
      g_value_set_boolean (value, self->presentation);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cs_window_set_property (GObject      *object,
                        guint         prop_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  CsWindow *self = CS_WINDOW (object);

  switch (prop_id)
    {
    case PROP_SESSION:
      self->session = g_value_dup_object (value);
      break;

    case PROP_SETTINGS:
      self->settings = g_value_dup_object (value);
      break;

    case PROP_VIEW:
      cs_window_set_view (self, g_value_get_string (value));
      break;

    case PROP_LESSON:
      if (g_value_get_boolean (value) != (self->lesson_page >= 0))
        cs_window_set_lesson_page (self, g_value_get_boolean (value) ? 0 : -1);
      break;

    case PROP_PRESENTATION:
      cs_window_set_presentation (self, g_value_get_boolean (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cs_window_class_init (CsWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->constructed = cs_window_constructed;
  object_class->dispose = cs_window_dispose;
  object_class->get_property = cs_window_get_property;
  object_class->set_property = cs_window_set_property;

  window_class->close_request = cs_window_close_request;

  properties[PROP_SESSION] =
    g_param_spec_object ("session", NULL, NULL, CS_TYPE_SESSION,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SETTINGS] =
    g_param_spec_object ("settings", NULL, NULL, G_TYPE_SETTINGS,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_VIEW] =
    g_param_spec_string ("view", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_LESSON] =
    g_param_spec_boolean ("lesson", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PRESENTATION] =
    g_param_spec_boolean ("presentation", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/convscope/Convscope/ui/cs-window.ui");
  gtk_widget_class_bind_template_child (widget_class, CsWindow, header_bar);
  gtk_widget_class_bind_template_child (widget_class, CsWindow, switcher);
  gtk_widget_class_bind_template_child (widget_class, CsWindow, primary_menu_button);
  gtk_widget_class_bind_template_child (widget_class, CsWindow, banner);
  gtk_widget_class_bind_template_child (widget_class, CsWindow, banner_icon);
  gtk_widget_class_bind_template_child (widget_class, CsWindow, banner_label);
  gtk_widget_class_bind_template_child (widget_class, CsWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, CsWindow, lesson_revealer);
  gtk_widget_class_bind_template_child (widget_class, CsWindow, lesson_counter);
  gtk_widget_class_bind_template_child (widget_class, CsWindow, lesson_title);
  gtk_widget_class_bind_template_child (widget_class, CsWindow, lesson_text);
  gtk_widget_class_bind_template_child (widget_class, CsWindow, lesson_code);
  gtk_widget_class_bind_template_callback (widget_class, on_visible_child_changed);

  _cs_window_class_actions_init (klass);
  _cs_window_class_lesson_init (klass);
  _cs_window_class_presentation_init (klass);
}

static void
cs_window_init (CsWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->lesson_page = -1;
  _cs_window_lesson_update (self);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.leave-presentation", FALSE);

  /* Alt+1 … Alt+9 switch views, wherever the focus is */
  self->view_shortcuts = GTK_SHORTCUT_CONTROLLER (gtk_shortcut_controller_new ());
  gtk_shortcut_controller_set_scope (self->view_shortcuts, GTK_SHORTCUT_SCOPE_GLOBAL);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (self->view_shortcuts));
}
