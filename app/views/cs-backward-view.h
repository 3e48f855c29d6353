/* cs-backward-view.h — the Backward view: the worked example's gradients,
 * cell by cell
 *
 * The Convolution view's example through ReLU, max (or average) pooling and
 * flatten, with a loss on its output y: L = Σ y, L = y[i], or the mean
 * squared error against a target. The engine runs the backward pass
 * (core/worked.h, CsWorkedBackward) and the view writes out its numbers.
 * Two bands of heat maps, one column per stage: above, the forward values
 * (input x, kernel k, the convolution, ReLU with the pooling's padding, the
 * pooled output y); below each, its gradient (∂L/∂x, ∂L/∂k beside the
 * updated kernel k − lr·∂L/∂k, ∂L/∂conv, ∂L/∂ReLU, ∂L/∂y), each with a
 * legend. Stepping walks the backward pass one cell at a time:
 *
 *   1. ∂L/∂y for each output cell           ∂L/∂y[2] = 1
 *   2. through the pooling and ReLU, for each cell of the convolution:
 *      ∂L/∂ReLU[1,0] = 0 (ReLU [2,0] won the window), then
 *      ∂L/∂conv[1,0] = ∂L/∂ReLU[1,0]·[26 > 0] = 0·1 = 0
 *   3. ∂L/∂k for each kernel cell, with its update
 *      ∂L/∂k[0,0] = 3·1 + 3·1 + 2·0 + … = 12;  k[0,0] ← 0 − 0.1·12 = −1.2
 *   4. ∂L/∂b, with a bias
 *   5. ∂L/∂x for each input cell            ∂L/∂x[2,2] = 0·0 + … + 2·1 = 7
 *
 * The current cell is outlined wherever it is drawn, the cells its sum
 * reads are outlined dashed, and the winner of a max-pool window is gold.
 *
 * The picture is a pure function of a CsBackwardViewState onto a cairo_t.
 */
#pragma once

#include <gtk/gtk.h>

#include "core/worked.h"
#include "cs-view.h"

G_BEGIN_DECLS

typedef enum
{
  CS_BACKWARD_GRID_INPUT,     /* x, with the convolution's padding ring */
  CS_BACKWARD_GRID_KERNEL,    /* k */
  CS_BACKWARD_GRID_CONV,      /* the convolution's output */
  CS_BACKWARD_GRID_RELU,      /* ReLU of it, with the pooling's padding ring */
  CS_BACKWARD_GRID_POOL,      /* the pooled map: the output y, row by row */
  CS_BACKWARD_GRID_DINPUT,    /* ∂L/∂x */
  CS_BACKWARD_GRID_DKERNEL,   /* ∂L/∂k */
  CS_BACKWARD_GRID_DCONV,     /* ∂L/∂conv */
  CS_BACKWARD_GRID_DRELU,     /* ∂L/∂ReLU */
  CS_BACKWARD_GRID_DPOOL,     /* ∂L/∂y */
  CS_BACKWARD_GRID_UPDATED,   /* k − lr·∂L/∂k, the engine's SGD step */
  CS_BACKWARD_N_GRIDS
} CsBackwardGrid;

typedef enum
{
  CS_BACKWARD_PHASE_OUTPUT,   /* ∂L/∂y, per pooled cell */
  CS_BACKWARD_PHASE_CONV,     /* through the pooling and ReLU, per convolution cell */
  CS_BACKWARD_PHASE_KERNEL,   /* ∂L/∂k and the update, per kernel cell */
  CS_BACKWARD_PHASE_BIAS,     /* ∂L/∂b and its update; only with a bias */
  CS_BACKWARD_PHASE_INPUT,    /* ∂L/∂x, per input cell */
} CsBackwardPhase;

typedef struct
{
  CsWorkedBackward *backward;  /* its example has ReLU, pooling and flatten; NULL if refused */
  const char *error;           /* why it was refused (backward == NULL) */
  int step;                    /* the current step, 0 … n − 1 */
  const char *highlight;       /* "dkernel", "update", "dinput" or NULL (cs_view_set_highlight ()) */
} CsBackwardViewState;

/* The number of steps: every cell of every phase; 0 without a picture. */
int      cs_backward_view_state_n_steps       (const CsBackwardViewState *state);
/* Where a step is: its phase and its cell in that phase's grid (the pooled
 * map, the convolution, the kernel, [0,0] for the bias, the input). */
gboolean cs_backward_view_state_locate        (const CsBackwardViewState *state,
                                               int                        step,
                                               CsBackwardPhase           *phase,
                                               int                       *row,
                                               int                       *col);
/* The step of a cell of a phase; −1 when there is none. */
int      cs_backward_view_state_find_step     (const CsBackwardViewState *state,
                                               CsBackwardPhase            phase,
                                               int                        row,
                                               int                        col);
/* The first step of the phase before / after the current one's (↑ / ↓). */
int      cs_backward_view_state_phase_step    (const CsBackwardViewState *state,
                                               int                        delta);

void     cs_backward_view_state_draw          (const CsBackwardViewState *state,
                                               cairo_t                   *cr,
                                               int                        width,
                                               int                        height);

/* Where a cell is drawn. Input and ReLU rows and columns may name their
 * padding rings. FALSE when there is no such cell (or no picture). */
gboolean cs_backward_view_state_cell_rect     (const CsBackwardViewState *state,
                                               int                        width,
                                               int                        height,
                                               CsBackwardGrid             grid,
                                               int                        row,
                                               int                        col,
                                               cairo_rectangle_t         *rect);

/* The data cell (never padding) at (x, y), if any. */
gboolean cs_backward_view_state_hit           (const CsBackwardViewState *state,
                                               int                        width,
                                               int                        height,
                                               double                     x,
                                               double                     y,
                                               CsBackwardGrid            *grid,
                                               int                       *row,
                                               int                       *col);
/* The step that explains a cell of a grid (a click on it goes there). */
int      cs_backward_view_state_step_of_cell  (const CsBackwardViewState *state,
                                               CsBackwardGrid             grid,
                                               int                        row,
                                               int                        col);

/* The current step's equation as drawn, one line per equation:
 * "∂L/∂k[0,0] = 3·1 + 3·1 + … = 12"; NULL without a picture. */
char    *cs_backward_view_state_equation_text (const CsBackwardViewState *state);
/* The update of the current parameter, "k[0,0] ← 0 − 0.1·12 = −1.2";
 * NULL unless the step is a kernel cell or the bias. */
char    *cs_backward_view_state_update_text   (const CsBackwardViewState *state);
/* The loss with its numbers: "L = Σ y = 24 + 18 + 28 + 18 = 88". */
char    *cs_backward_view_state_loss_text     (const CsBackwardViewState *state);
/* One line for assistive technologies: the equation and the update, or the
 * reason there is no picture. */
char    *cs_backward_view_state_describe      (const CsBackwardViewState *state);

/* The widget: the picture, stepping (← → one cell, ↑ ↓ one phase, Home, End,
 * Space or Play, a click on any cell), and the loss, the target or output
 * cell it needs, max or average pooling and the learning rate.
 *
 * Properties: "step", "playing", "average", "lr". */
#define CS_TYPE_BACKWARD_VIEW (cs_backward_view_get_type ())
G_DECLARE_FINAL_TYPE (CsBackwardView, cs_backward_view, CS, BACKWARD_VIEW, GtkWidget)

GtkWidget          *cs_backward_view_new          (void);

/* The example: its convolution and pooling window, as the pooling view
 * takes it (ReLU and flatten on; max or average is the view's choice).
 * Connect it to CsConvView::spec-changed. */
void                cs_backward_view_set_spec     (CsBackwardView     *self,
                                                   const CsWorkedSpec *spec);
const CsWorkedSpec *cs_backward_view_get_spec     (CsBackwardView     *self);
/* The engine's backward pass shown; NULL when the example was refused. */
CsWorkedBackward   *cs_backward_view_get_backward (CsBackwardView     *self);

void                cs_backward_view_set_pool     (CsBackwardView     *self,
                                                   CsWorkedPool        pool);
CsWorkedPool        cs_backward_view_get_pool     (CsBackwardView     *self);
/* The loss; a cell out of range is clamped into the output. */
void                cs_backward_view_set_loss     (CsBackwardView     *self,
                                                   const CsWorkedLoss *loss);
const CsWorkedLoss *cs_backward_view_get_loss     (CsBackwardView     *self);
/* The learning rate of the update, default 0.1. */
void                cs_backward_view_set_lr       (CsBackwardView     *self,
                                                   double              lr);
double              cs_backward_view_get_lr       (CsBackwardView     *self);

void                cs_backward_view_set_step     (CsBackwardView     *self,
                                                   int                 step);
int                 cs_backward_view_get_step     (CsBackwardView     *self);
void                cs_backward_view_set_playing  (CsBackwardView     *self,
                                                   gboolean            playing);
gboolean            cs_backward_view_get_playing  (CsBackwardView     *self);

void                cs_backward_view_get_state    (CsBackwardView     *self,
                                                   CsBackwardViewState *state);

G_END_DECLS
