/* cs-gradients-view.h — the Gradients view: what training does to each layer
 *
 * Live while the network trains, two parts:
 *
 *   the norm plot  each layer's gradient norm ‖∂L/∂W‖₂ per batch against the
 *                  step, one line per layer with parameters in the
 *                  qualitative palette's colours (in layer order: the first
 *                  such layer takes colour 0), and the whole gradient's norm
 *                  as a dashed grey line; a log scale of whole decades with
 *                  at least a twentieth of a decade to spare above and below;
 *                  a legend of the layers ("0 Conv2d") with their last norm.
 *                  Long runs are drawn from CsGradientNorms' buckets, a
 *                  minimum and a maximum per pixel column.
 *   the weights    one weight tensor of the model, chosen among its layers':
 *                  its values and its gradient for the last batch side by
 *                  side, each a heat map on the diverging palette scaled to
 *                  ± its largest magnitude, with a legend. A convolution's
 *                  kernels are drawn as small kh×kw pictures, the kernels of
 *                  an output channel along a row; a linear layer that reads
 *                  a one-channel image (the MLP's first) has each row drawn
 *                  as a picture of that image's size (28×28 templates);
 *                  other weights as their (out, in) matrix. The kernel or
 *                  template under the cursor is enlarged beside them, a
 *                  kernel with its numbers.
 *
 * As for every view, the picture is a function of a CsGradientsViewState
 * onto a cairo_t, and so are the layout and hit tests the widget and the
 * tests share. A "weight" is a parameter tensor of two or more dimensions
 * (biases and BatchNorm's scales are left out); weights are numbered in the
 * snapshot's state-dict order. An "element" is an index into a weight
 * tensor's values, row-major in its PyTorch shape. An "item" is what the
 * maps draw as one picture: a kernel (C_in · o + i), a template (a row), or
 * for a matrix a row.
 */
#pragma once

#include <gtk/gtk.h>

#include "cs-gradient-norms.h"
#include "cs-palette.h"
#include "cs-snapshot.h"
#include "cs-view.h"

G_BEGIN_DECLS

typedef enum
{
  CS_GRADIENTS_SHOW_BOTH,        /* the weights and their gradients side by side */
  CS_GRADIENTS_SHOW_WEIGHTS,
  CS_GRADIENTS_SHOW_GRADIENTS,
} CsGradientsShow;

typedef enum
{
  CS_GRADIENTS_MAP_WEIGHTS,
  CS_GRADIENTS_MAP_GRADIENTS,
} CsGradientsMap;

typedef enum
{
  CS_GRADIENTS_ARRANGE_KERNELS,    /* (C_out, C_in, kh, kw): a kh×kw picture per kernel */
  CS_GRADIENTS_ARRANGE_TEMPLATES,  /* (out, in), in a one-channel image: a picture per row */
  CS_GRADIENTS_ARRANGE_MATRIX,     /* (out, in …): the matrix itself */
} CsGradientsArrangement;

typedef enum
{
  CS_GRADIENTS_MOVE_LEFT,          /* the previous item, same cell */
  CS_GRADIENTS_MOVE_RIGHT,
  CS_GRADIENTS_MOVE_UP,            /* the item a row of pictures above */
  CS_GRADIENTS_MOVE_DOWN,
  CS_GRADIENTS_MOVE_HOME,          /* the first element */
  CS_GRADIENTS_MOVE_END,           /* the last item */
} CsGradientsMove;

typedef struct
{
  const CsGradientNorms *norms;  /* borrowed; NULL or no records: the plot waits */
  CsSnapshot *snapshot;          /* borrowed; NULL: the weights wait */
  int weight;                    /* the weight shown; −1: the first */
  CsGradientsShow show;
  gboolean smooth;               /* smoothed lines over a faint band of the raw norms */
  int cursor;                    /* an element of the weight; −1: none */
  const char *highlight;         /* "norms", "weights" or NULL (cs_view_set_highlight ()) */
} CsGradientsViewState;

void         cs_gradients_view_state_init            (CsGradientsViewState       *state);
void         cs_gradients_view_state_draw            (const CsGradientsViewState *state,
                                                      cairo_t                    *cr,
                                                      int                         width,
                                                      int                         height);

/* ---- the weights ------------------------------------------------------- */

/* The snapshot's weights: how many, and the i-th's state-dict name
 * ("0.weight"), layer and description ("0 Conv2d · weight 32×1×3×3"). */
guint        cs_gradients_view_state_get_n_weights   (const CsGradientsViewState *state);
const char  *cs_gradients_view_state_get_weight_name (const CsGradientsViewState *state,
                                                      guint                       i);
guint        cs_gradients_view_state_get_weight_layer (const CsGradientsViewState *state,
                                                      guint                       i);
char        *cs_gradients_view_state_describe_weight (const CsGradientsViewState *state,
                                                      guint                       i);
/* The weight drawn (state->weight, or the first when −1 or out of range);
 * −1 when the snapshot has none. */
int          cs_gradients_view_state_get_shown_weight (const CsGradientsViewState *state);
CsGradientsArrangement cs_gradients_view_state_get_arrangement (const CsGradientsViewState *state);

/* The values a map draws (the snapshot's weight or its gradient, n of
 * them), NULL when the snapshot does not carry them; and the map's scale:
 * ± the largest finite magnitude (1 when all are 0). */
const float *cs_gradients_view_state_get_values      (const CsGradientsViewState *state,
                                                      CsGradientsMap              map,
                                                      gsize                      *n);
double       cs_gradients_view_state_get_limit       (const CsGradientsViewState *state,
                                                      CsGradientsMap              map);

/* Whether a map is drawn at this size, and where element is drawn in it. */
gboolean     cs_gradients_view_state_get_cell_rect   (const CsGradientsViewState *state,
                                                      int                         width,
                                                      int                         height,
                                                      CsGradientsMap              map,
                                                      gsize                       element,
                                                      graphene_rect_t            *rect);
/* The map and element under (x, y). */
gboolean     cs_gradients_view_state_hit_cell        (const CsGradientsViewState *state,
                                                      int                         width,
                                                      int                         height,
                                                      double                      x,
                                                      double                      y,
                                                      CsGradientsMap             *map,
                                                      gsize                      *element);

/* Shows weight i (a new weight puts the cursor on its first element). */
gboolean     cs_gradients_view_state_select_weight   (CsGradientsViewState       *state,
                                                      int                         i);
/* Shows a weight of layer: its first, or its next when one is shown. */
gboolean     cs_gradients_view_state_select_layer    (CsGradientsViewState       *state,
                                                      guint                       layer);
gboolean     cs_gradients_view_state_move_cursor     (CsGradientsViewState       *state,
                                                      int                         width,
                                                      int                         height,
                                                      CsGradientsMove             move);
/* The cursor's element in words, with its weight and gradient. */
char        *cs_gradients_view_state_describe_cursor (const CsGradientsViewState *state);

/* ---- the norm plot ----------------------------------------------------- */

/* Whether the plot is drawn at this size, and its data area. */
gboolean     cs_gradients_view_state_get_plot_rect   (const CsGradientsViewState *state,
                                                      int                         width,
                                                      int                         height,
                                                      graphene_rect_t            *rect);
/* The plot's axes: norms lo … hi (powers of ten) bottom to top, steps
 * first … last left to right. FALSE before any positive norm. */
gboolean     cs_gradients_view_state_get_axes        (const CsGradientsViewState *state,
                                                      double                     *lo,
                                                      double                     *hi,
                                                      gint64                     *first,
                                                      gint64                     *last);
/* Whether series (a layer, or n_layers for the whole gradient) is plotted,
 * and its row in the legend. */
gboolean     cs_gradients_view_state_get_legend_rect (const CsGradientsViewState *state,
                                                      int                         width,
                                                      int                         height,
                                                      guint                       series,
                                                      graphene_rect_t            *rect);
/* The legend row under (x, y), as a series. */
gboolean     cs_gradients_view_state_hit_legend      (const CsGradientsViewState *state,
                                                      int                         width,
                                                      int                         height,
                                                      double                      x,
                                                      double                      y,
                                                      guint                      *series);

/* ---- the widget -------------------------------------------------------- */

#define CS_TYPE_GRADIENTS_VIEW (cs_gradients_view_get_type ())
G_DECLARE_FINAL_TYPE (CsGradientsView, cs_gradients_view, CS, GRADIENTS_VIEW, GtkWidget)

GtkWidget  *cs_gradients_view_new               (void);
/* Brings the plot up to date with history, reading only the records added
 * since the last call (another run starts the plot over); NULL empties it.
 * The history is not kept: call again after it grows. */
void        cs_gradients_view_set_history       (CsGradientsView       *self,
                                                 const CsTrainHistory  *history);
/* Takes a reference (the weights, and their gradients when it has them:
 * CS_SNAPSHOT_PARAMS and CS_SNAPSHOT_PARAM_GRADS). Keeps the weight shown
 * and the cursor when the network is the same. */
void        cs_gradients_view_set_snapshot      (CsGradientsView       *self,
                                                 CsSnapshot            *snapshot);
CsSnapshot *cs_gradients_view_get_snapshot      (CsGradientsView       *self);
void        cs_gradients_view_set_show          (CsGradientsView       *self,
                                                 CsGradientsShow        show);
CsGradientsShow cs_gradients_view_get_show      (CsGradientsView       *self);
void        cs_gradients_view_set_smooth        (CsGradientsView       *self,
                                                 gboolean               smooth);
gboolean    cs_gradients_view_get_smooth        (CsGradientsView       *self);
gboolean    cs_gradients_view_select_weight     (CsGradientsView       *self,
                                                 int                    weight);
/* Puts the cursor on element of the weight shown; FALSE past its end. */
gboolean    cs_gradients_view_set_cursor        (CsGradientsView       *self,
                                                 int                    element);
const CsGradientsViewState *cs_gradients_view_get_state (CsGradientsView *self);

G_END_DECLS
