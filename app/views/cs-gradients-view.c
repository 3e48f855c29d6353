/* cs-gradients-view.c — the Gradients view's widget
 *
 * A toolbar (the weight shown, weights and/or gradients, smoothing, the
 * cursor in words) above a drawing area that draws the view's state
 * (cs-gradients-view-state.c). A click on the legend shows that layer's
 * weights; pointing at a map, or the arrow keys, move the cursor; Page Up
 * and Page Down step through the weights. The history's norms are copied
 * into a CsGradientNorms, incrementally, as the run grows. Children are
 * made here rather than from a .ui template, like the Network view's: the
 * views live in libviews, which has no GResource of its own yet.
 */
#include "cs-gradients-view.h"

#include <glib/gi18n.h>

struct _CsGradientsView
{
  GtkWidget parent_instance;

  /* children, unparented in dispose */
  GtkWidget *toolbar;
  GtkWidget *canvas;
  /* inside the toolbar */
  GtkWidget *weight_dropdown;
  GtkStringList *weight_names;
  GtkWidget *show_buttons[3];    /* by CsGradientsShow */
  GtkWidget *smooth_check;
  GtkWidget *cursor_label;

  /* what is drawn: state.norms is norms, state.snapshot a reference held here */
  CsGradientNorms *norms;
  CsGradientsViewState state;
  gboolean syncing;              /* the toolbar is being set from the state */
};

enum
{
  PROP_0,
  PROP_SNAPSHOT,
  PROP_SMOOTH,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void cs_gradients_view_view_init (CsViewInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (CsGradientsView, cs_gradients_view, GTK_TYPE_WIDGET,
                               G_IMPLEMENT_INTERFACE (CS_TYPE_VIEW, cs_gradients_view_view_init))

static void
cs_gradients_view_draw (CsView *view, cairo_t *cr, int width, int height)
{
  cs_gradients_view_state_draw (&CS_GRADIENTS_VIEW (view)->state, cr, width, height);
}

static void
cs_gradients_view_view_init (CsViewInterface *iface)
{
  static const char *const highlights[] = { "norms", "weights", NULL };

  iface->draw = cs_gradients_view_draw;
  iface->highlights = highlights;
}

static void
on_highlight_changed (CsGradientsView *self)
{
  self->state.highlight = cs_view_get_highlight (CS_VIEW (self));
}

static void
canvas_draw (GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer data)
{
  cs_gradients_view_state_draw (&CS_GRADIENTS_VIEW (data)->state, cr, width, height);
}

/* After the cursor or the weights changed: the words and the redraw. */
static void
cursor_changed (CsGradientsView *self)
{
  g_autofree char *text = cs_gradients_view_state_describe_cursor (&self->state);
  gtk_label_set_text (GTK_LABEL (self->cursor_label), text != NULL ? text : "");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->canvas),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  text != NULL ? text : _("Nothing to show yet: train the network"),
                                  -1);
  gtk_widget_queue_draw (self->canvas);
}

/* The toolbar from the state: the list of weights and the one shown. */
static void
sync_toolbar (CsGradientsView *self)
{
  guint n = cs_gradients_view_state_get_n_weights (&self->state);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < n; i++)
    g_ptr_array_add (names, cs_gradients_view_state_describe_weight (&self->state, i));
  g_ptr_array_add (names, NULL);

  self->syncing = TRUE;
  GListModel *model = G_LIST_MODEL (self->weight_names);
  gboolean same = g_list_model_get_n_items (model) == n;
  for (guint i = 0; same && i < n; i++)
    same = g_str_equal (gtk_string_list_get_string (self->weight_names, i), names->pdata[i]);
  if (!same)
    gtk_string_list_splice (self->weight_names, 0, g_list_model_get_n_items (model),
                            (const char *const *) names->pdata);
  int shown = cs_gradients_view_state_get_shown_weight (&self->state);
  gtk_drop_down_set_selected (GTK_DROP_DOWN (self->weight_dropdown),
                              shown >= 0 ? (guint) shown : GTK_INVALID_LIST_POSITION);
  gtk_widget_set_sensitive (self->weight_dropdown, n > 0);
  for (int s = 0; s < 3; s++)
    gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (self->show_buttons[s]),
                                  (int) self->state.show == s);
  gtk_check_button_set_active (GTK_CHECK_BUTTON (self->smooth_check), self->state.smooth);
  self->syncing = FALSE;
}

static void
on_weight_selected (GtkDropDown *dropdown, GParamSpec *pspec, CsGradientsView *self)
{
  if (self->syncing)
    return;
  guint i = gtk_drop_down_get_selected (dropdown);
  if (i != GTK_INVALID_LIST_POSITION)
    cs_gradients_view_select_weight (self, (int) i);
}

static void
on_show_toggled (GtkToggleButton *button, CsGradientsView *self)
{
  if (self->syncing || !gtk_toggle_button_get_active (button))
    return;
  for (int s = 0; s < 3; s++)
    if (GTK_WIDGET (button) == self->show_buttons[s])
      cs_gradients_view_set_show (self, (CsGradientsShow) s);
}

static void
on_smooth_toggled (GtkCheckButton *check, CsGradientsView *self)
{
  if (!self->syncing)
    cs_gradients_view_set_smooth (self, gtk_check_button_get_active (check));
}

static void
canvas_size (CsGradientsView *self, int *w, int *h)
{
  *w = gtk_widget_get_width (self->canvas);
  *h = gtk_widget_get_height (self->canvas);
}

static gboolean
point_cursor (CsGradientsView *self, double x, double y)
{
  int w, h;
  canvas_size (self, &w, &h);
  CsGradientsMap map;
  gsize element;
  if (!cs_gradients_view_state_hit_cell (&self->state, w, h, x, y, &map, &element))
    return FALSE;
  if ((int) element != self->state.cursor)
    {
      self->state.cursor = (int) element;
      cursor_changed (self);
    }
  return TRUE;
}

static void
on_pressed (GtkGestureClick *gesture, int n_press, double x, double y, CsGradientsView *self)
{
  int w, h;
  canvas_size (self, &w, &h);
  gtk_widget_grab_focus (self->canvas);
  guint series;
  if (cs_gradients_view_state_hit_legend (&self->state, w, h, x, y, &series))
    {
      if (cs_gradients_view_state_select_layer (&self->state, series))
        {
          sync_toolbar (self);
          cursor_changed (self);
        }
      return;
    }
  point_cursor (self, x, y);
}

static void
on_motion (GtkEventControllerMotion *motion, double x, double y, CsGradientsView *self)
{
  point_cursor (self, x, y);
}

static gboolean
on_key_pressed (GtkEventControllerKey *controller, guint keyval, guint keycode,
                GdkModifierType modifiers, CsGradientsView *self)
{
  int w, h;
  canvas_size (self, &w, &h);
  CsGradientsMove move;
  switch (keyval)
    {
    case GDK_KEY_Left:
    case GDK_KEY_KP_Left:
      move = CS_GRADIENTS_MOVE_LEFT;
      break;
    case GDK_KEY_Right:
    case GDK_KEY_KP_Right:
      move = CS_GRADIENTS_MOVE_RIGHT;
      break;
    case GDK_KEY_Up:
    case GDK_KEY_KP_Up:
      move = CS_GRADIENTS_MOVE_UP;
      break;
    case GDK_KEY_Down:
    case GDK_KEY_KP_Down:
      move = CS_GRADIENTS_MOVE_DOWN;
      break;
    case GDK_KEY_Home:
    case GDK_KEY_KP_Home:
      move = CS_GRADIENTS_MOVE_HOME;
      break;
    case GDK_KEY_End:
    case GDK_KEY_KP_End:
      move = CS_GRADIENTS_MOVE_END;
      break;
    case GDK_KEY_Page_Up:
    case GDK_KEY_KP_Page_Up:
    case GDK_KEY_Page_Down:
    case GDK_KEY_KP_Page_Down:
      {
        gboolean up = keyval == GDK_KEY_Page_Up || keyval == GDK_KEY_KP_Page_Up;
        int shown = cs_gradients_view_state_get_shown_weight (&self->state);
        if (shown >= 0)
          cs_gradients_view_select_weight (self, shown + (up ? -1 : 1));
        return TRUE;
      }
    default:
      return FALSE;
    }
  if (cs_gradients_view_state_move_cursor (&self->state, w, h, move))
    cursor_changed (self);
  return TRUE;
}

static void
cs_gradients_view_get_property (GObject *object, guint prop_id, GValue *value,
                                GParamSpec *pspec)
{
  CsGradientsView *self = CS_GRADIENTS_VIEW (object);
  switch (prop_id)
    {
    case PROP_SNAPSHOT:
      g_value_set_boxed (value, self->state.snapshot);
      break;
    case PROP_SMOOTH:
      g_value_set_boolean (value, self->state.smooth);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cs_gradients_view_set_property (GObject *object, guint prop_id, const GValue *value,
                                GParamSpec *pspec)
{
  CsGradientsView *self = CS_GRADIENTS_VIEW (object);
  switch (prop_id)
    {
    case PROP_SNAPSHOT:
      cs_gradients_view_set_snapshot (self, g_value_get_boxed (value));
      break;
    case PROP_SMOOTH:
      cs_gradients_view_set_smooth (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cs_gradients_view_dispose (GObject *object)
{
  CsGradientsView *self = CS_GRADIENTS_VIEW (object);
  g_clear_pointer (&self->toolbar, gtk_widget_unparent);
  g_clear_pointer (&self->canvas, gtk_widget_unparent);
  g_clear_pointer (&self->state.snapshot, cs_snapshot_unref);
  G_OBJECT_CLASS (cs_gradients_view_parent_class)->dispose (object);
}

static void
cs_gradients_view_finalize (GObject *object)
{
  CsGradientsView *self = CS_GRADIENTS_VIEW (object);
  self->state.norms = NULL;
  g_clear_pointer (&self->norms, cs_gradient_norms_free);
  G_OBJECT_CLASS (cs_gradients_view_parent_class)->finalize (object);
}

static void
cs_gradients_view_class_init (CsGradientsViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->get_property = cs_gradients_view_get_property;
  object_class->set_property = cs_gradients_view_set_property;
  object_class->dispose = cs_gradients_view_dispose;
  object_class->finalize = cs_gradients_view_finalize;

  properties[PROP_SNAPSHOT] =
    g_param_spec_boxed ("snapshot", NULL, NULL, CS_TYPE_SNAPSHOT,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SMOOTH] =
    g_param_spec_boolean ("smooth", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BOX_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "gradientsview");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
cs_gradients_view_init (CsGradientsView *self)
{
  self->norms = cs_gradient_norms_new ();
  cs_gradients_view_state_init (&self->state);
  g_signal_connect (self, "highlight-changed", G_CALLBACK (on_highlight_changed), NULL);
  self->state.norms = self->norms;

  GtkLayoutManager *box = gtk_widget_get_layout_manager (GTK_WIDGET (self));
  gtk_orientable_set_orientation (GTK_ORIENTABLE (box), GTK_ORIENTATION_VERTICAL);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Gradients"), -1);

  self->toolbar = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  gtk_widget_set_margin_start (self->toolbar, 12);
  gtk_widget_set_margin_end (self->toolbar, 12);
  gtk_widget_set_margin_top (self->toolbar, 6);
  gtk_widget_set_margin_bottom (self->toolbar, 6);
  gtk_widget_set_parent (self->toolbar, GTK_WIDGET (self));

  /* the weight shown */
  self->weight_names = gtk_string_list_new (NULL);
  self->weight_dropdown = gtk_drop_down_new (G_LIST_MODEL (self->weight_names), NULL);
  gtk_widget_set_tooltip_text (self->weight_dropdown,
                               _("The layer whose weights are drawn (Page Up, Page Down; or "
                                 "click a layer in the legend)"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->weight_dropdown),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Layer weights shown"), -1);
  gtk_box_append (GTK_BOX (self->toolbar), self->weight_dropdown);
  g_signal_connect (self->weight_dropdown, "notify::selected", G_CALLBACK (on_weight_selected),
                    self);

  /* weights, gradients or both; plain labels (GTK 4.8 reads a mnemonic
   * button's name twice on the accessibility bus) */
  GtkWidget *linked = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);
  gtk_widget_add_css_class (linked, "linked");
  gtk_accessible_update_property (GTK_ACCESSIBLE (linked), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Show"), -1);
  static const char *const labels[3] = { N_("Both"), N_("Weights"), N_("Gradients") };
  static const char *const tips[3] = {
    N_("The weights and their gradients side by side"),
    N_("The weights w alone, larger"),
    N_("The gradients ∂L/∂w of the last batch alone, larger"),
  };
  for (int s = 0; s < 3; s++)
    {
      self->show_buttons[s] = gtk_toggle_button_new_with_label (_(labels[s]));
      gtk_widget_set_tooltip_text (self->show_buttons[s], _(tips[s]));
      if (s > 0)
        gtk_toggle_button_set_group (GTK_TOGGLE_BUTTON (self->show_buttons[s]),
                                     GTK_TOGGLE_BUTTON (self->show_buttons[0]));
      gtk_box_append (GTK_BOX (linked), self->show_buttons[s]);
      g_signal_connect (self->show_buttons[s], "toggled", G_CALLBACK (on_show_toggled), self);
    }
  gtk_box_append (GTK_BOX (self->toolbar), linked);

  self->smooth_check = gtk_check_button_new_with_label (_("Smooth"));
  gtk_widget_set_tooltip_text (self->smooth_check,
                               _("Draw each norm's moving average over a faint band of the "
                                 "raw norms"));
  gtk_box_append (GTK_BOX (self->toolbar), self->smooth_check);
  g_signal_connect (self->smooth_check, "toggled", G_CALLBACK (on_smooth_toggled), self);

  self->cursor_label = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (self->cursor_label), 0.0f);
  gtk_label_set_ellipsize (GTK_LABEL (self->cursor_label), PANGO_ELLIPSIZE_END);
  gtk_widget_set_hexpand (self->cursor_label, TRUE);
  gtk_box_append (GTK_BOX (self->toolbar), self->cursor_label);

  /* the picture */
  self->canvas = gtk_drawing_area_new ();
  gtk_widget_set_hexpand (self->canvas, TRUE);
  gtk_widget_set_vexpand (self->canvas, TRUE);
  gtk_widget_set_focusable (self->canvas, TRUE);
  gtk_widget_set_size_request (self->canvas, 480, 360);
  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (self->canvas), canvas_draw, self, NULL);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->canvas), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Gradient norms and weight maps: point at a weight or use "
                                    "the arrow keys; Page Up and Page Down change the layer"),
                                  -1);
  gtk_widget_set_parent (self->canvas, GTK_WIDGET (self));

  GtkGesture *click = gtk_gesture_click_new ();
  g_signal_connect (click, "pressed", G_CALLBACK (on_pressed), self);
  gtk_widget_add_controller (self->canvas, GTK_EVENT_CONTROLLER (click));
  GtkEventController *motion = gtk_event_controller_motion_new ();
  g_signal_connect (motion, "motion", G_CALLBACK (on_motion), self);
  gtk_widget_add_controller (self->canvas, motion);
  GtkEventController *keys = gtk_event_controller_key_new ();
  g_signal_connect (keys, "key-pressed", G_CALLBACK (on_key_pressed), self);
  gtk_widget_add_controller (self->canvas, keys);

  sync_toolbar (self);
  cursor_changed (self);
}

GtkWidget *
cs_gradients_view_new (void)
{
  return g_object_new (CS_TYPE_GRADIENTS_VIEW, NULL);
}

void
cs_gradients_view_set_history (CsGradientsView *self, const CsTrainHistory *history)
{
  g_return_if_fail (CS_IS_GRADIENTS_VIEW (self));
  if (cs_gradient_norms_update (self->norms, history))
    gtk_widget_queue_draw (self->canvas);
}

void
cs_gradients_view_set_snapshot (CsGradientsView *self, CsSnapshot *snapshot)
{
  g_return_if_fail (CS_IS_GRADIENTS_VIEW (self));
  if (snapshot == self->state.snapshot)
    return;
  gboolean same = cs_snapshot_same_structure (self->state.snapshot, snapshot);
  g_clear_pointer (&self->state.snapshot, cs_snapshot_unref);
  if (snapshot != NULL)
    self->state.snapshot = cs_snapshot_ref (snapshot);
  if (!same)
    {
      self->state.weight = -1;
      self->state.cursor = 0;
    }
  sync_toolbar (self);
  cursor_changed (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SNAPSHOT]);
}

CsSnapshot *
cs_gradients_view_get_snapshot (CsGradientsView *self)
{
  g_return_val_if_fail (CS_IS_GRADIENTS_VIEW (self), NULL);
  return self->state.snapshot;
}

void
cs_gradients_view_set_show (CsGradientsView *self, CsGradientsShow show)
{
  g_return_if_fail (CS_IS_GRADIENTS_VIEW (self));
  g_return_if_fail (show <= CS_GRADIENTS_SHOW_GRADIENTS);
  if (show == self->state.show)
    return;
  self->state.show = show;
  sync_toolbar (self);
  cursor_changed (self);
}

CsGradientsShow
cs_gradients_view_get_show (CsGradientsView *self)
{
  g_return_val_if_fail (CS_IS_GRADIENTS_VIEW (self), CS_GRADIENTS_SHOW_BOTH);
  return self->state.show;
}

void
cs_gradients_view_set_smooth (CsGradientsView *self, gboolean smooth)
{
  g_return_if_fail (CS_IS_GRADIENTS_VIEW (self));
  smooth = !!smooth;
  if (smooth == self->state.smooth)
    return;
  self->state.smooth = smooth;
  sync_toolbar (self);
  gtk_widget_queue_draw (self->canvas);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SMOOTH]);
}

gboolean
cs_gradients_view_get_smooth (CsGradientsView *self)
{
  g_return_val_if_fail (CS_IS_GRADIENTS_VIEW (self), FALSE);
  return self->state.smooth;
}

gboolean
cs_gradients_view_select_weight (CsGradientsView *self, int weight)
{
  g_return_val_if_fail (CS_IS_GRADIENTS_VIEW (self), FALSE);
  if (!cs_gradients_view_state_select_weight (&self->state, weight))
    return FALSE;
  sync_toolbar (self);
  cursor_changed (self);
  return TRUE;
}

gboolean
cs_gradients_view_set_cursor (CsGradientsView *self, int element)
{
  g_return_val_if_fail (CS_IS_GRADIENTS_VIEW (self), FALSE);
  gsize n = 0;
  if (element < 0 || cs_gradients_view_state_get_shown_weight (&self->state) < 0)
    return FALSE;
  cs_gradients_view_state_get_values (&self->state, CS_GRADIENTS_MAP_WEIGHTS, &n);
  if ((gsize) element >= n)
    return FALSE;
  self->state.cursor = element;
  cursor_changed (self);
  return TRUE;
}

const CsGradientsViewState *
cs_gradients_view_get_state (CsGradientsView *self)
{
  g_return_val_if_fail (CS_IS_GRADIENTS_VIEW (self), NULL);
  return &self->state;
}
