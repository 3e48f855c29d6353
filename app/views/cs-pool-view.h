/* cs-pool-view.h — the "ReLU, pooling, flatten" view
 *
 * What happens to the Convolution view's output: ReLU, then
 * MaxPool2d(2, 2, padding=1) (or average pooling), then Flatten, with the
 * engine's numbers (core/worked.h). The ReLU map is drawn with the pooling's
 * padding ring (−∞ cells for max pooling, 0 for average); the window of the
 * current pooled cell is outlined on it and, for max pooling, the engine's
 * winner is marked (a gold outline and "max"); under the grids the window is
 * written out:
 *
 *   MaxPool [1,0] = max(−∞, 26, −∞, 28) = 28, from ReLU [2,0]
 *   AvgPool [1,0] = (0 + 26 + 0 + 28)/4 = 13.5
 *
 * then the flattened vector with its indices. Same stepping as the
 * Convolution view, over the pooled cells.
 *
 * The picture is a pure function of a CsPoolViewState onto a cairo_t.
 */
#pragma once

#include <gtk/gtk.h>

#include "core/worked.h"
#include "cs-view.h"

G_BEGIN_DECLS

typedef enum
{
  CS_POOL_GRID_CONV,     /* the convolution's output */
  CS_POOL_GRID_RELU,     /* ReLU of it, with the pooling's padding ring */
  CS_POOL_GRID_POOL,     /* the pooled map */
  CS_POOL_GRID_FLAT,     /* the flattened vector: row 0, col = index */
} CsPoolGrid;

typedef struct
{
  CsWorked *worked;          /* conv, ReLU, max or average pooling, flatten; NULL if refused */
  const char *error;         /* why it was refused (worked == NULL) */
  int row, col;              /* the current pooled cell */
  int hover_row, hover_col;  /* the pooled cell under the pointer; −1 for none */
  const char *highlight;     /* "conv", "relu", "pool", "flatten" or NULL (cs_view_set_highlight ()) */
} CsPoolViewState;

void     cs_pool_view_state_draw        (const CsPoolViewState *state,
                                         cairo_t               *cr,
                                         int                    width,
                                         int                    height);

/* Where a cell is drawn. ReLU rows and columns may name the padding ring
 * (−padding … size + padding − 1); the flat vector is row 0. */
gboolean cs_pool_view_state_cell_rect   (const CsPoolViewState *state,
                                         int                    width,
                                         int                    height,
                                         CsPoolGrid             grid,
                                         int                    row,
                                         int                    col,
                                         cairo_rectangle_t     *rect);

/* The data cell (never padding) at (x, y), if any. */
gboolean cs_pool_view_state_hit         (const CsPoolViewState *state,
                                         int                    width,
                                         int                    height,
                                         double                 x,
                                         double                 y,
                                         CsPoolGrid            *grid,
                                         int                   *row,
                                         int                   *col);

/* The current window as drawn: "max(−∞, 26, −∞, 28) = 28" or
 * "(0 + 26 + 0 + 28)/4 = 13.5"; NULL without a picture. */
char    *cs_pool_view_state_window_text (const CsPoolViewState *state);

/* One line for assistive technologies: "MaxPool [1,0] = max(…) = 28, from
 * ReLU [2,0]; flattened index 2", or the reason there is no picture. */
char    *cs_pool_view_state_describe    (const CsPoolViewState *state);

/* The widget: the picture, stepping (←/→/↑/↓, Home/End, a click on a pooled
 * or flattened cell, Play/Pause), a pointer over a pooled cell showing its
 * window, and a Max / Average choice.
 *
 * Properties: "row", "col" (the current pooled cell), "playing",
 * "average" (average pooling instead of max). */
#define CS_TYPE_POOL_VIEW (cs_pool_view_get_type ())
G_DECLARE_FINAL_TYPE (CsPoolView, cs_pool_view, CS, POOL_VIEW, GtkWidget)

GtkWidget          *cs_pool_view_new          (void);

/* The example: its convolution (input, kernel, stride, padding, dilation,
 * bias) and its pooling window (kernel, stride, padding; the default
 * 2, 2, 1 if it has none). ReLU and Flatten are always on; max or average
 * is the view's own choice. Connect it to CsConvView::spec-changed. */
void                cs_pool_view_set_spec     (CsPoolView         *self,
                                               const CsWorkedSpec *spec);
/* The example drawn, with the view's ReLU, pooling and flatten. */
const CsWorkedSpec *cs_pool_view_get_spec     (CsPoolView         *self);
CsWorked           *cs_pool_view_get_worked   (CsPoolView         *self);

/* CS_WORKED_POOL_MAX or CS_WORKED_POOL_AVG. */
void                cs_pool_view_set_pool     (CsPoolView         *self,
                                               CsWorkedPool        pool);
CsWorkedPool        cs_pool_view_get_pool     (CsPoolView         *self);

void                cs_pool_view_set_current  (CsPoolView         *self,
                                               int                 row,
                                               int                 col);
void                cs_pool_view_get_current  (CsPoolView         *self,
                                               int                *row,
                                               int                *col);

void                cs_pool_view_set_playing  (CsPoolView         *self,
                                               gboolean            playing);
gboolean            cs_pool_view_get_playing  (CsPoolView         *self);

void                cs_pool_view_get_state    (CsPoolView         *self,
                                               CsPoolViewState    *state);

G_END_DECLS
