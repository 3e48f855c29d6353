/* cs-conv-view.h — the Convolution view: the worked example, cell by cell
 *
 * The input (with its padding ring), the kernel and the output of one
 * convolution, all the engine's numbers (core/worked.h), coloured by value
 * with a legend under each grid. The window of the current output cell is
 * outlined on the input, each of its cells tagged with the weight it meets,
 * and under the grids the products are written out with their sum:
 *
 *   Output [0,0] = 3·0 + 3·1 + 2·2 + 2·2 + 3·2 + 2·0 + 3·0 + 3·1 + 2·2 = 24
 *
 * followed by the output-size formula with the example's numbers. A spec the
 * engine refuses (a window larger than the padded input) shows the reason
 * and the formula instead of the grids.
 *
 * The picture is a pure function of a CsConvViewState onto a cairo_t; the
 * widget, the tests and the export menu all draw through it, and the
 * widget's hit-testing uses the same layout.
 */
#pragma once

#include <gtk/gtk.h>

#include "core/worked.h"
#include "cs-view.h"

G_BEGIN_DECLS

typedef enum
{
  CS_CONV_GRID_INPUT,
  CS_CONV_GRID_KERNEL,
  CS_CONV_GRID_OUTPUT,
} CsConvGrid;

typedef struct
{
  const CsWorkedSpec *spec;  /* what is asked for; never NULL */
  CsWorked *worked;          /* the engine's example of spec, NULL if it was refused */
  const char *error;         /* why it was refused (worked == NULL) */
  int row, col;              /* the current output cell */
  int hover_row, hover_col;  /* the output cell under the pointer; −1 for none */
  const char *highlight;     /* "input", "kernel", "output" or NULL (cs_view_set_highlight ()) */
} CsConvViewState;

/* Draws the view into (0, 0, width, height). */
void     cs_conv_view_state_draw          (const CsConvViewState *state,
                                           cairo_t               *cr,
                                           int                    width,
                                           int                    height);

/* Where a cell is drawn at that size. Input rows and columns may name the
 * padding ring (−padding … H + padding − 1). FALSE when there is no such
 * cell in the picture (or no picture). */
gboolean cs_conv_view_state_cell_rect     (const CsConvViewState *state,
                                           int                    width,
                                           int                    height,
                                           CsConvGrid             grid,
                                           int                    row,
                                           int                    col,
                                           cairo_rectangle_t     *rect);

/* The data cell (never a padding cell) at (x, y), if any. */
gboolean cs_conv_view_state_hit           (const CsConvViewState *state,
                                           int                    width,
                                           int                    height,
                                           double                 x,
                                           double                 y,
                                           CsConvGrid            *grid,
                                           int                   *row,
                                           int                   *col);

/* The current cell's products and sum as drawn: "3·0 + 3·1 + … = 24";
 * NULL without a picture. */
char    *cs_conv_view_state_products_text (const CsConvViewState *state);

/* One line for assistive technologies: "Output [0,0] = 3·0 + … = 24", or
 * the reason there is no output. */
char    *cs_conv_view_state_describe      (const CsConvViewState *state);

/* The widget: the picture, stepping (←/→/↑/↓, Home/End, a click on an
 * output cell, Play/Pause), a pointer over an output cell showing its
 * window, a click on an input or kernel cell to edit it (Enter applies,
 * Escape cancels), and stride, padding, dilation and bias controls.
 *
 * Signals:
 *   "spec-changed" (CsConvView *self): after any edit of the example, once
 *     the engine has run it (the spec may still be one it refused).
 *   "notify::row", "notify::col": the current output cell moved. */
#define CS_TYPE_CONV_VIEW (cs_conv_view_get_type ())
G_DECLARE_FINAL_TYPE (CsConvView, cs_conv_view, CS, CONV_VIEW, GtkWidget)

GtkWidget          *cs_conv_view_new          (void);

/* The example shown; the default is DESIGN.md's (cs_worked_spec_init_default). */
const CsWorkedSpec *cs_conv_view_get_spec     (CsConvView         *self);
void                cs_conv_view_set_spec     (CsConvView         *self,
                                               const CsWorkedSpec *spec);
/* The engine's example for the spec; NULL when it was refused. */
CsWorked           *cs_conv_view_get_worked   (CsConvView         *self);

void                cs_conv_view_set_current  (CsConvView         *self,
                                               int                 row,
                                               int                 col);
void                cs_conv_view_get_current  (CsConvView         *self,
                                               int                *row,
                                               int                *col);

/* Autoplay: the next output cell every 0.9 s, from the last back to the first. */
void                cs_conv_view_set_playing  (CsConvView         *self,
                                               gboolean            playing);
gboolean            cs_conv_view_get_playing  (CsConvView         *self);

/* The current state, for drawing elsewhere; valid until the view changes. */
void                cs_conv_view_get_state    (CsConvView         *self,
                                               CsConvViewState    *state);

G_END_DECLS
