/* cs-network-view.c — the Network view's widget
 *
 * A toolbar (activations or gradients, the selection in words) above a
 * drawing area that draws the view's state (cs-network-view-state.c);
 * clicks and the arrow keys select through the state's hit tests.
 * Children are made here rather than from a .ui template: the view lives in
 * libviews, which has no GResource of its own yet.
 */
#include "cs-network-view.h"

#include <glib/gi18n.h>
#include <string.h>

struct _CsNetworkView
{
  GtkWidget parent_instance;

  /* children, unparented in dispose */
  GtkWidget *toolbar;
  GtkWidget *canvas;
  /* inside the toolbar */
  GtkWidget *activations_button;
  GtkWidget *gradients_button;
  GtkWidget *selection_label;
  GtkWidget *freeze_button;
  GtkWidget *zero_button;

  /* what is drawn; state.snapshot is a reference held here */
  CsNetworkViewState state;
  char **class_names;

  /* the run the experiments by hand go to, or NULL */
  CsTraining *training;
  gboolean shown_frozen;     /* the words say the selection is frozen */
};

enum
{
  PROP_0,
  PROP_SNAPSHOT,
  PROP_SHOW_GRADIENTS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void cs_network_view_view_init (CsViewInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (CsNetworkView, cs_network_view, GTK_TYPE_WIDGET,
                               G_IMPLEMENT_INTERFACE (CS_TYPE_VIEW, cs_network_view_view_init))

static void
cs_network_view_draw (CsView *view, cairo_t *cr, int width, int height)
{
  cs_network_view_state_draw (&CS_NETWORK_VIEW (view)->state, cr, width, height);
}

static void
cs_network_view_view_init (CsViewInterface *iface)
{
  static const char *const highlights[] = { "input", "hidden", "output", NULL };

  iface->draw = cs_network_view_draw;
  iface->highlights = highlights;
}

static void
on_highlight_changed (CsNetworkView *self)
{
  self->state.highlight = cs_view_get_highlight (CS_VIEW (self));
}

static void
canvas_draw (GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer data)
{
  cs_network_view_state_draw (&CS_NETWORK_VIEW (data)->state, cr, width, height);
}

/* The selected unit or kernel as the trainer names it, when the picture is
 * of the network the run trains. */
static gboolean
selected_unit (CsNetworkView *self, guint *layer, guint *unit)
{
  if (self->training == NULL || self->state.snapshot == NULL)
    return FALSE;
  const CsTrainerStatus *s = cs_training_get_status (self->training);
  if (g_strcmp0 (cs_snapshot_get_name (self->state.snapshot), s->model) != 0)
    return FALSE;
  return cs_network_view_state_get_selected_unit (&self->state, layer, unit);
}

/* Freeze / Unfreeze and Zero for the selection. */
static void
update_experiment_buttons (CsNetworkView *self)
{
  guint layer, unit;
  gboolean can = selected_unit (self, &layer, &unit);
  gboolean frozen = can && cs_trainer_status_is_frozen (cs_training_get_status (self->training),
                                                        layer, unit);
  const char *label = frozen ? _("Unfreeze") : _("Freeze");
  gtk_button_set_label (GTK_BUTTON (self->freeze_button), label);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->freeze_button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
  gtk_widget_set_sensitive (self->freeze_button, can);
  gtk_widget_set_sensitive (self->zero_button, can);
}

static void
on_freeze_clicked (CsNetworkView *self)
{
  guint layer, unit;
  if (!selected_unit (self, &layer, &unit))
    return;
  gboolean frozen = cs_trainer_status_is_frozen (cs_training_get_status (self->training),
                                                 layer, unit);
  cs_trainer_freeze_unit (cs_training_get_trainer (self->training), layer, unit, !frozen);
}

static void
on_zero_clicked (CsNetworkView *self)
{
  guint layer, unit;
  if (selected_unit (self, &layer, &unit))
    cs_trainer_zero_unit (cs_training_get_trainer (self->training), layer, unit);
}

/* The selection in words, and whether its unit is frozen. */
static void
describe (CsNetworkView *self)
{
  update_experiment_buttons (self);
  g_autofree char *text = cs_network_view_state_describe_selection (&self->state);
  guint layer, unit;
  self->shown_frozen = selected_unit (self, &layer, &unit)
                       && cs_trainer_status_is_frozen (cs_training_get_status (self->training),
                                                       layer, unit);
  if (self->shown_frozen)
    {
      char *frozen = g_strdup_printf (_("%s (frozen)"), text);
      g_free (text);
      text = frozen;
    }
  gtk_label_set_text (GTK_LABEL (self->selection_label), text);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->canvas),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, text, -1);
}

/* After the selection or the picture changed: the words and the redraw. */
static void
selection_changed (CsNetworkView *self)
{
  describe (self);
  gtk_widget_queue_draw (self->canvas);
}

/* A new status: the words again only when the selection's unit was
 * frozen or thawed. */
static void
on_training_updated (CsTraining *training, CsNetworkView *self)
{
  guint layer, unit;
  gboolean frozen = selected_unit (self, &layer, &unit)
                    && cs_trainer_status_is_frozen (cs_training_get_status (training), layer, unit);
  if (frozen != self->shown_frozen)
    describe (self);
  else
    update_experiment_buttons (self);
}

static void
update_toggle (CsNetworkView *self)
{
  gboolean has = self->state.snapshot != NULL && cs_snapshot_has_gradients (self->state.snapshot);
  gtk_widget_set_sensitive (self->gradients_button, has);
  gtk_widget_set_tooltip_text (self->gradients_button,
                               has ? _("Show how the loss changes with each value (∂L/∂a)")
                                   : _("No gradients yet: they come with training"));
  gboolean grads = cs_network_view_state_showing_gradients (&self->state);
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (grads ? self->gradients_button
                                                         : self->activations_button), TRUE);
}

static void
on_pressed (GtkGestureClick *gesture, int n_press, double x, double y, CsNetworkView *self)
{
  guint act, index;
  int w = gtk_widget_get_width (self->canvas), h = gtk_widget_get_height (self->canvas);
  gtk_widget_grab_focus (self->canvas);
  if (cs_network_view_state_hit (&self->state, w, h, x, y, &act, &index)
      && cs_network_view_state_select (&self->state, (int) act, (int) index))
    selection_changed (self);
}

static gboolean
on_key_pressed (GtkEventControllerKey *controller, guint keyval, guint keycode,
                GdkModifierType modifiers, CsNetworkView *self)
{
  int w = gtk_widget_get_width (self->canvas), h = gtk_widget_get_height (self->canvas);
  CsNetworkMove move;
  switch (keyval)
    {
    case GDK_KEY_Left:
    case GDK_KEY_KP_Left:
      move = CS_NETWORK_MOVE_LEFT;
      break;
    case GDK_KEY_Right:
    case GDK_KEY_KP_Right:
      move = CS_NETWORK_MOVE_RIGHT;
      break;
    case GDK_KEY_Up:
    case GDK_KEY_KP_Up:
      move = CS_NETWORK_MOVE_UP;
      break;
    case GDK_KEY_Down:
    case GDK_KEY_KP_Down:
      move = CS_NETWORK_MOVE_DOWN;
      break;
    case GDK_KEY_Home:
    case GDK_KEY_KP_Home:
      cs_network_view_state_select (&self->state, -1, -1);
      cs_network_view_state_select_default (&self->state);
      selection_changed (self);
      return TRUE;
    case GDK_KEY_Escape:
      if (cs_network_view_state_select (&self->state, -1, -1))
        selection_changed (self);
      return TRUE;
    default:
      return FALSE;
    }
  if (cs_network_view_state_move_selection (&self->state, w, h, move))
    selection_changed (self);
  return TRUE;
}

static void
on_gradients_toggled (GtkToggleButton *button, CsNetworkView *self)
{
  cs_network_view_set_show_gradients (self, gtk_toggle_button_get_active (button));
}

static void
cs_network_view_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CsNetworkView *self = CS_NETWORK_VIEW (object);
  switch (prop_id)
    {
    case PROP_SNAPSHOT:
      g_value_set_boxed (value, self->state.snapshot);
      break;
    case PROP_SHOW_GRADIENTS:
      g_value_set_boolean (value, cs_network_view_get_show_gradients (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cs_network_view_set_property (GObject *object, guint prop_id, const GValue *value,
                              GParamSpec *pspec)
{
  CsNetworkView *self = CS_NETWORK_VIEW (object);
  switch (prop_id)
    {
    case PROP_SNAPSHOT:
      cs_network_view_set_snapshot (self, g_value_get_boxed (value));
      break;
    case PROP_SHOW_GRADIENTS:
      cs_network_view_set_show_gradients (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cs_network_view_dispose (GObject *object)
{
  CsNetworkView *self = CS_NETWORK_VIEW (object);
  g_clear_pointer (&self->toolbar, gtk_widget_unparent);
  g_clear_pointer (&self->canvas, gtk_widget_unparent);
  g_clear_pointer (&self->state.snapshot, cs_snapshot_unref);
  if (self->training != NULL)
    g_signal_handlers_disconnect_by_data (self->training, self);
  g_clear_object (&self->training);
  G_OBJECT_CLASS (cs_network_view_parent_class)->dispose (object);
}

static void
cs_network_view_finalize (GObject *object)
{
  CsNetworkView *self = CS_NETWORK_VIEW (object);
  g_strfreev (self->class_names);
  G_OBJECT_CLASS (cs_network_view_parent_class)->finalize (object);
}

static void
cs_network_view_class_init (CsNetworkViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->get_property = cs_network_view_get_property;
  object_class->set_property = cs_network_view_set_property;
  object_class->dispose = cs_network_view_dispose;
  object_class->finalize = cs_network_view_finalize;

  properties[PROP_SNAPSHOT] =
    g_param_spec_boxed ("snapshot", NULL, NULL, CS_TYPE_SNAPSHOT,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SHOW_GRADIENTS] =
    g_param_spec_boolean ("show-gradients", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BOX_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "networkview");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
cs_network_view_init (CsNetworkView *self)
{
  cs_network_view_state_init (&self->state);
  g_signal_connect (self, "highlight-changed", G_CALLBACK (on_highlight_changed), NULL);

  GtkLayoutManager *box = gtk_widget_get_layout_manager (GTK_WIDGET (self));
  gtk_orientable_set_orientation (GTK_ORIENTABLE (box), GTK_ORIENTATION_VERTICAL);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Network"), -1);

  /* the toolbar: what to show, and the selection in words */
  self->toolbar = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  gtk_widget_set_margin_start (self->toolbar, 12);
  gtk_widget_set_margin_end (self->toolbar, 12);
  gtk_widget_set_margin_top (self->toolbar, 6);
  gtk_widget_set_margin_bottom (self->toolbar, 6);
  gtk_widget_set_parent (self->toolbar, GTK_WIDGET (self));

  GtkWidget *linked = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);
  gtk_widget_add_css_class (linked, "linked");
  gtk_accessible_update_property (GTK_ACCESSIBLE (linked), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Show"), -1);
  /* plain labels: GTK 4.8 names a mnemonic button "_Activations Activations"
   * on the accessibility bus */
  self->activations_button = gtk_toggle_button_new_with_label (_("Activations"));
  self->gradients_button = gtk_toggle_button_new_with_label (_("Gradients"));
  gtk_toggle_button_set_group (GTK_TOGGLE_BUTTON (self->gradients_button),
                               GTK_TOGGLE_BUTTON (self->activations_button));
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (self->activations_button), TRUE);
  gtk_widget_set_tooltip_text (self->activations_button,
                               _("Show each layer's output for this input"));
  gtk_box_append (GTK_BOX (linked), self->activations_button);
  gtk_box_append (GTK_BOX (linked), self->gradients_button);
  gtk_box_append (GTK_BOX (self->toolbar), linked);
  g_signal_connect (self->gradients_button, "toggled", G_CALLBACK (on_gradients_toggled), self);

  self->selection_label = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (self->selection_label), 0.0f);
  gtk_label_set_ellipsize (GTK_LABEL (self->selection_label), PANGO_ELLIPSIZE_END);
  gtk_widget_set_hexpand (self->selection_label, TRUE);
  gtk_box_append (GTK_BOX (self->toolbar), self->selection_label);

  /* experiments by hand on the selected unit or kernel of the run */
  GtkWidget *experiment = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);
  gtk_widget_add_css_class (experiment, "linked");
  self->freeze_button = gtk_button_new_with_label (_("Freeze"));
  gtk_widget_set_tooltip_text (self->freeze_button,
                               _("Keep the selected unit's or kernel's weights and bias as they "
                                 "are while training goes on (its gradient is masked)"));
  self->zero_button = gtk_button_new_with_label (_("Zero"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->zero_button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Zero"), -1);
  gtk_widget_set_tooltip_text (self->zero_button,
                               _("Set the selected unit's or kernel's weights and bias to 0 now"));
  g_signal_connect_swapped (self->freeze_button, "clicked", G_CALLBACK (on_freeze_clicked), self);
  g_signal_connect_swapped (self->zero_button, "clicked", G_CALLBACK (on_zero_clicked), self);
  gtk_box_append (GTK_BOX (experiment), self->freeze_button);
  gtk_box_append (GTK_BOX (experiment), self->zero_button);
  gtk_box_append (GTK_BOX (self->toolbar), experiment);

  /* the picture */
  self->canvas = gtk_drawing_area_new ();
  gtk_widget_set_hexpand (self->canvas, TRUE);
  gtk_widget_set_vexpand (self->canvas, TRUE);
  gtk_widget_set_focusable (self->canvas, TRUE);
  gtk_widget_set_size_request (self->canvas, 480, 320);
  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (self->canvas), canvas_draw, self, NULL);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->canvas), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Network diagram: click a unit or a feature map, or use the "
                                    "arrow keys"), -1);
  gtk_widget_set_parent (self->canvas, GTK_WIDGET (self));

  GtkGesture *click = gtk_gesture_click_new ();
  g_signal_connect (click, "pressed", G_CALLBACK (on_pressed), self);
  gtk_widget_add_controller (self->canvas, GTK_EVENT_CONTROLLER (click));
  GtkEventController *keys = gtk_event_controller_key_new ();
  g_signal_connect (keys, "key-pressed", G_CALLBACK (on_key_pressed), self);
  gtk_widget_add_controller (self->canvas, keys);

  update_toggle (self);
  selection_changed (self);
}

GtkWidget *
cs_network_view_new (void)
{
  return g_object_new (CS_TYPE_NETWORK_VIEW, NULL);
}

void
cs_network_view_set_snapshot (CsNetworkView *self, CsSnapshot *snapshot)
{
  g_return_if_fail (CS_IS_NETWORK_VIEW (self));
  if (snapshot == self->state.snapshot)
    return;
  gboolean same = cs_snapshot_same_structure (self->state.snapshot, snapshot);
  g_clear_pointer (&self->state.snapshot, cs_snapshot_unref);
  if (snapshot != NULL)
    self->state.snapshot = cs_snapshot_ref (snapshot);
  if (!same)
    {
      cs_network_view_state_select (&self->state, -1, -1);
      cs_network_view_state_select_default (&self->state);
    }
  update_toggle (self);
  selection_changed (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SNAPSHOT]);
}

CsSnapshot *
cs_network_view_get_snapshot (CsNetworkView *self)
{
  g_return_val_if_fail (CS_IS_NETWORK_VIEW (self), NULL);
  return self->state.snapshot;
}

void
cs_network_view_set_show_gradients (CsNetworkView *self, gboolean show)
{
  g_return_if_fail (CS_IS_NETWORK_VIEW (self));
  CsNetworkShow s = show ? CS_NETWORK_SHOW_GRADIENTS : CS_NETWORK_SHOW_ACTIVATIONS;
  if (s == self->state.show)
    return;
  self->state.show = s;
  update_toggle (self);
  selection_changed (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SHOW_GRADIENTS]);
}

gboolean
cs_network_view_get_show_gradients (CsNetworkView *self)
{
  g_return_val_if_fail (CS_IS_NETWORK_VIEW (self), FALSE);
  return self->state.show == CS_NETWORK_SHOW_GRADIENTS;
}

void
cs_network_view_set_class_names (CsNetworkView *self, const char *const *names)
{
  g_return_if_fail (CS_IS_NETWORK_VIEW (self));
  g_strfreev (self->class_names);
  self->class_names = g_strdupv ((char **) names);
  self->state.class_names = (const char *const *) self->class_names;
  selection_changed (self);
}

gboolean
cs_network_view_select (CsNetworkView *self, int act, int index)
{
  g_return_val_if_fail (CS_IS_NETWORK_VIEW (self), FALSE);
  if (!cs_network_view_state_select (&self->state, act, index))
    return FALSE;
  selection_changed (self);
  return TRUE;
}

const CsNetworkViewState *
cs_network_view_get_state (CsNetworkView *self)
{
  g_return_val_if_fail (CS_IS_NETWORK_VIEW (self), NULL);
  return &self->state;
}

void
cs_network_view_set_training (CsNetworkView *self, CsTraining *training)
{
  g_return_if_fail (CS_IS_NETWORK_VIEW (self));
  g_return_if_fail (training == NULL || CS_IS_TRAINING (training));
  if (training == self->training)
    return;
  if (self->training != NULL)
    g_signal_handlers_disconnect_by_data (self->training, self);
  g_set_object (&self->training, training);
  if (training != NULL)
    g_signal_connect_object (training, "updated", G_CALLBACK (on_training_updated), self, 0);
  selection_changed (self);
}

CsTraining *
cs_network_view_get_training (CsNetworkView *self)
{
  g_return_val_if_fail (CS_IS_NETWORK_VIEW (self), NULL);
  return self->training;
}
