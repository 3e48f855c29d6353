/* cs-stepper.c — the current cell of a view that steps through a grid */
#include "cs-stepper.h"
#include "cs-grid.h"

#include <glib/gi18n.h>

struct _CsStepper
{
  GObject parent_instance;

  int rows, cols;
  int row, col;
  guint interval_ms;
  guint play_source;

  /* the text of the buttons */
  char *play_name;

  /* the buttons (referenced: the view's toolbar holds them too) */
  GtkWidget *prev_button, *play_button, *next_button;
};

enum
{
  PROP_0,
  PROP_ROW,
  PROP_COL,
  PROP_PLAYING,
  N_PROPS,
};

enum
{
  MOVED,
  N_SIGNALS,
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (CsStepper, cs_stepper, G_TYPE_OBJECT)

static gboolean
play_tick (gpointer data)
{
  cs_stepper_step (CS_STEPPER (data), 1);
  return G_SOURCE_CONTINUE;
}

static void
prev_clicked (GtkButton *button, CsStepper *self)
{
  cs_stepper_step (self, -1);
}

static void
next_clicked (GtkButton *button, CsStepper *self)
{
  cs_stepper_step (self, 1);
}

static void
play_toggled (GtkToggleButton *button, CsStepper *self)
{
  cs_stepper_set_playing (self, gtk_toggle_button_get_active (button));
}

static GtkWidget *
icon_button (const char *icon, const char *accessible, const char *tooltip)
{
  GtkWidget *button = gtk_button_new_from_icon_name (icon);

  gtk_widget_set_tooltip_text (button, tooltip);
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  accessible, -1);
  return g_object_ref_sink (button);
}

static void
cs_stepper_dispose (GObject *object)
{
  CsStepper *self = CS_STEPPER (object);

  g_clear_handle_id (&self->play_source, g_source_remove);
  if (self->prev_button != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->prev_button, self);
      g_signal_handlers_disconnect_by_data (self->play_button, self);
      g_signal_handlers_disconnect_by_data (self->next_button, self);
    }
  g_clear_object (&self->prev_button);
  g_clear_object (&self->play_button);
  g_clear_object (&self->next_button);
  G_OBJECT_CLASS (cs_stepper_parent_class)->dispose (object);
}

static void
cs_stepper_finalize (GObject *object)
{
  g_free (CS_STEPPER (object)->play_name);
  G_OBJECT_CLASS (cs_stepper_parent_class)->finalize (object);
}

static void
cs_stepper_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CsStepper *self = CS_STEPPER (object);

  switch (prop_id)
    {
    case PROP_ROW:
      g_value_set_int (value, self->row);
      break;
    case PROP_COL:
      g_value_set_int (value, self->col);
      break;
    case PROP_PLAYING:
      g_value_set_boolean (value, cs_stepper_get_playing (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cs_stepper_set_property (GObject *object, guint prop_id, const GValue *value,
                         GParamSpec *pspec)
{
  CsStepper *self = CS_STEPPER (object);

  switch (prop_id)
    {
    case PROP_ROW:
      cs_stepper_move_to (self, g_value_get_int (value), self->col);
      break;
    case PROP_COL:
      cs_stepper_move_to (self, self->row, g_value_get_int (value));
      break;
    case PROP_PLAYING:
      cs_stepper_set_playing (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cs_stepper_class_init (CsStepperClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = cs_stepper_dispose;
  object_class->finalize = cs_stepper_finalize;
  object_class->get_property = cs_stepper_get_property;
  object_class->set_property = cs_stepper_set_property;

  properties[PROP_ROW] = g_param_spec_int ("row", NULL, NULL, 0, G_MAXINT, 0,
                                           G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY
                                           | G_PARAM_STATIC_STRINGS);
  properties[PROP_COL] = g_param_spec_int ("col", NULL, NULL, 0, G_MAXINT, 0,
                                           G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY
                                           | G_PARAM_STATIC_STRINGS);
  properties[PROP_PLAYING] = g_param_spec_boolean ("playing", NULL, NULL, FALSE,
                                                   G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY
                                                   | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * CsStepper::moved:
   *
   * The current cell changed; "row" and "col" have been notified.
   */
  signals[MOVED] = g_signal_new ("moved", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                 NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
cs_stepper_init (CsStepper *self)
{
}

CsStepper *
cs_stepper_new (guint interval_ms, const CsStepperText *text)
{
  g_return_val_if_fail (interval_ms > 0, NULL);
  g_return_val_if_fail (text != NULL, NULL);

  CsStepper *self = g_object_new (CS_TYPE_STEPPER, NULL);
  self->interval_ms = interval_ms;
  self->play_name = g_strdup (text->play_name);

  self->prev_button = icon_button ("go-previous-symbolic", text->prev_name, text->prev_tooltip);
  self->play_button = g_object_ref_sink (gtk_toggle_button_new_with_label (_("Play")));
  gtk_widget_set_tooltip_text (self->play_button, text->play_tooltip);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->play_button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, text->play_name, -1);
  self->next_button = icon_button ("go-next-symbolic", text->next_name, text->next_tooltip);
  g_signal_connect (self->prev_button, "clicked", G_CALLBACK (prev_clicked), self);
  g_signal_connect (self->next_button, "clicked", G_CALLBACK (next_clicked), self);
  g_signal_connect (self->play_button, "toggled", G_CALLBACK (play_toggled), self);
  cs_stepper_set_size (self, 0, 0);
  return self;
}

void
cs_stepper_append_buttons (CsStepper *self, GtkBox *box)
{
  g_return_if_fail (CS_IS_STEPPER (self));
  g_return_if_fail (GTK_IS_BOX (box));

  gtk_box_append (box, self->prev_button);
  gtk_box_append (box, self->play_button);
  gtk_box_append (box, self->next_button);
}

void
cs_stepper_set_size (CsStepper *self, int rows, int cols)
{
  g_return_if_fail (CS_IS_STEPPER (self));

  gboolean have = rows > 0 && cols > 0;
  self->rows = have ? rows : 0;
  self->cols = have ? cols : 0;
  gtk_widget_set_sensitive (self->prev_button, have);
  gtk_widget_set_sensitive (self->next_button, have);
  gtk_widget_set_sensitive (self->play_button, have);
  if (!have)
    cs_stepper_set_playing (self, FALSE);
  else
    cs_stepper_move_to (self, self->row, self->col);
}

void
cs_stepper_get_size (CsStepper *self, int *rows, int *cols)
{
  g_return_if_fail (CS_IS_STEPPER (self));
  if (rows != NULL)
    *rows = self->rows;
  if (cols != NULL)
    *cols = self->cols;
}

void
cs_stepper_move_to (CsStepper *self, int row, int col)
{
  g_return_if_fail (CS_IS_STEPPER (self));

  if (self->rows == 0)
    return;
  row = CLAMP (row, 0, self->rows - 1);
  col = CLAMP (col, 0, self->cols - 1);
  if (row == self->row && col == self->col)
    return;
  g_object_freeze_notify (G_OBJECT (self));
  if (row != self->row)
    {
      self->row = row;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ROW]);
    }
  if (col != self->col)
    {
      self->col = col;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_COL]);
    }
  g_object_thaw_notify (G_OBJECT (self));
  g_signal_emit (self, signals[MOVED], 0);
}

void
cs_stepper_get_current (CsStepper *self, int *row, int *col)
{
  g_return_if_fail (CS_IS_STEPPER (self));
  if (row != NULL)
    *row = self->row;
  if (col != NULL)
    *col = self->col;
}

void
cs_stepper_step (CsStepper *self, int delta)
{
  int row, col;

  g_return_if_fail (CS_IS_STEPPER (self));
  row = self->row;
  col = self->col;
  cs_grid_step (self->rows, self->cols, delta, &row, &col);
  cs_stepper_move_to (self, row, col);
}

void
cs_stepper_set_playing (CsStepper *self, gboolean playing)
{
  g_return_if_fail (CS_IS_STEPPER (self));

  playing = playing && self->rows > 0;
  if (playing == (self->play_source != 0))
    return;
  if (playing)
    self->play_source = g_timeout_add (self->interval_ms, play_tick, self);
  else
    g_clear_handle_id (&self->play_source, g_source_remove);

  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (self->play_button), playing);
  gtk_button_set_label (GTK_BUTTON (self->play_button), playing ? _("Pause") : _("Play"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->play_button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  playing ? _("Pause the autoplay") : self->play_name, -1);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PLAYING]);
}

gboolean
cs_stepper_get_playing (CsStepper *self)
{
  g_return_val_if_fail (CS_IS_STEPPER (self), FALSE);
  return self->play_source != 0;
}

gboolean
cs_stepper_handle_key (CsStepper *self, guint keyval, GdkModifierType state)
{
  int row, col;

  g_return_val_if_fail (CS_IS_STEPPER (self), FALSE);

  if (state & (GDK_CONTROL_MASK | GDK_ALT_MASK) || self->rows == 0)
    return FALSE;
  if (keyval == GDK_KEY_space || keyval == GDK_KEY_KP_Space)
    {
      cs_stepper_set_playing (self, !cs_stepper_get_playing (self));
      return TRUE;
    }
  row = self->row;
  col = self->col;
  if (!cs_grid_step_key (keyval, self->rows, self->cols, &row, &col))
    return FALSE;
  cs_stepper_move_to (self, row, col);
  return TRUE;
}
