/* cs-stepper.h — the current cell of a view that steps through a grid
 *
 * The Convolution, pooling and Backward views each walk a grid of cells
 * (output cells, pooled cells, the steps of the backward pass): a current
 * cell, Previous / Play / Next buttons, an autoplay timer and the keys
 *
 *   ← →         one cell back or on in reading order, wrapping round
 *   ↑ ↓         one row up or down, stopping at the edges
 *   Home, End   the first and the last cell
 *   Space       Play / Pause
 *
 * CsStepper holds all of that for one view; the view packs the buttons,
 * gives it the grid's size whenever its picture changes, forwards its
 * canvas's keys and redraws on "moved".
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* What the buttons say, in the view's words. */
typedef struct
{
  const char *prev_name, *prev_tooltip;   /* "Previous output cell", "… (←)" */
  const char *next_name, *next_tooltip;
  const char *play_name;                  /* "Play: step through the output cells" */
  const char *play_tooltip;               /* "Step through the output cells" */
} CsStepperText;

/* Properties: "row", "col" (the current cell), "playing".
 * Signals:
 *   "moved" (CsStepper *self): the current cell changed (after the row and
 *     col notifications), by a key, a button, the timer or a call. */
#define CS_TYPE_STEPPER (cs_stepper_get_type ())
G_DECLARE_FINAL_TYPE (CsStepper, cs_stepper, CS, STEPPER, GObject)

/* Plays one cell every interval_ms; the strings are copied. */
CsStepper *cs_stepper_new          (guint                interval_ms,
                                    const CsStepperText *text);

/* Appends Previous, Play and Next to box (a toolbar). */
void       cs_stepper_append_buttons (CsStepper         *self,
                                      GtkBox            *box);

/* The grid stepped through; 0 × 0 when there is none (the buttons are then
 * insensitive and autoplay stops). The current cell is clamped into it. */
void       cs_stepper_set_size     (CsStepper           *self,
                                    int                  rows,
                                    int                  cols);
void       cs_stepper_get_size     (CsStepper           *self,
                                    int                 *rows,
                                    int                 *cols);

/* Moves to (row, col), clamped into the grid. */
void       cs_stepper_move_to      (CsStepper           *self,
                                    int                  row,
                                    int                  col);
void       cs_stepper_get_current  (CsStepper           *self,
                                    int                 *row,
                                    int                 *col);
/* delta cells on in reading order, wrapping round at either end. */
void       cs_stepper_step         (CsStepper           *self,
                                    int                  delta);

void       cs_stepper_set_playing  (CsStepper           *self,
                                    gboolean             playing);
gboolean   cs_stepper_get_playing  (CsStepper           *self);

/* The keys above (moves as cs_grid_step_key () makes them), without Ctrl
 * or Alt; FALSE for any other key. */
gboolean   cs_stepper_handle_key   (CsStepper           *self,
                                    guint                keyval,
                                    GdkModifierType      state);

G_END_DECLS
