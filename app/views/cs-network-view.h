/* cs-network-view.h — the Network view: every layer of a real network at work
 *
 * For a multi-layer perceptron (the 784-256-10 MLP): the input as a 28×28
 * grid, each hidden layer as a square grid of units coloured by activation,
 * the outputs with their probabilities, and the strongest contributions
 * w·x as edges; a selected unit shows its incoming weights laid out as the
 * layer before it (a 28×28 picture for the first hidden layer). For a
 * convolutional network: every feature map of every layer for one input, a
 * column per activation (CNN Explainer's overview); a selected map is
 * enlarged beside the kernels that made it, with their values.
 *
 * The picture is a function of a CsNetworkViewState onto a cairo_t, and so
 * are the layout and hit-testing functions, which the widget, the export
 * and the tests share. "act" indexes activations as CsSnapshot does: 0 the
 * input, k the output of layer k − 1. An "item" of an activation is a
 * channel (a feature map) when the activation is (C, H, W), a unit when it
 * is (F).
 */
#pragma once

#include <gtk/gtk.h>

#include "cs-palette.h"
#include "cs-snapshot.h"
#include "cs-training.h"
#include "cs-view.h"

G_BEGIN_DECLS

typedef enum
{
  CS_NETWORK_SHOW_ACTIVATIONS,
  CS_NETWORK_SHOW_GRADIENTS,    /* d loss / d activation; when the snapshot has them */
} CsNetworkShow;

typedef enum
{
  CS_NETWORK_MOVE_LEFT,
  CS_NETWORK_MOVE_RIGHT,
  CS_NETWORK_MOVE_UP,
  CS_NETWORK_MOVE_DOWN,
} CsNetworkMove;

typedef struct
{
  CsSnapshot *snapshot;            /* borrowed; NULL draws a placeholder */
  CsNetworkShow show;
  int selected_act;                /* −1: nothing selected */
  int selected_index;
  guint n_edges;                   /* strongest contributions drawn per pair of layers */
  const char *const *class_names;  /* NULL: "0", "1", … */
  const char *highlight;           /* "input", "hidden", "output" or NULL (cs_view_set_highlight ()) */
} CsNetworkViewState;

void     cs_network_view_state_init               (CsNetworkViewState       *state);

void     cs_network_view_state_draw               (const CsNetworkViewState *state,
                                                   cairo_t                  *cr,
                                                   int                       width,
                                                   int                       height);

/* Whether the picture shows gradients: asked for, and in the snapshot. */
gboolean cs_network_view_state_showing_gradients  (const CsNetworkViewState *state);

/* The values drawn for activation act (the activation or its gradient), and
 * their colour scale: a signed activation or any gradient is diverging
 * (±limit), a non-negative one sequential (0 … limit); limit is the
 * largest |value| of the whole activation, all channels. */
const float *cs_network_view_state_get_values     (const CsNetworkViewState *state,
                                                   guint                     act);
void     cs_network_view_state_get_scale          (const CsNetworkViewState *state,
                                                   guint                     act,
                                                   CsPaletteKind            *kind,
                                                   double                   *limit);

/* Whether act is drawn, and the rectangle of its items (tiles, units). */
gboolean cs_network_view_state_get_column_rect    (const CsNetworkViewState *state,
                                                   int                       width,
                                                   int                       height,
                                                   guint                     act,
                                                   graphene_rect_t          *rect);
/* The rectangle item index of act is drawn in: a hidden unit's cell, a
 * feature map's tile (the map's pixels exactly), an output's row. */
gboolean cs_network_view_state_get_item_rect      (const CsNetworkViewState *state,
                                                   int                       width,
                                                   int                       height,
                                                   guint                     act,
                                                   guint                     index,
                                                   graphene_rect_t          *rect);
/* The selectable item under (x, y). */
gboolean cs_network_view_state_hit                (const CsNetworkViewState *state,
                                                   int                       width,
                                                   int                       height,
                                                   double                    x,
                                                   double                    y,
                                                   guint                    *act,
                                                   guint                    *index);

/* The selection's incoming weights as drawn: for a unit of a perceptron,
 * the cell (row, col) of its weight picture laid out as the layer before
 * (channel 0; the input's channel for a multi-channel input), scaled to
 * ± the largest |w| of the unit; for a feature map, the cell (row, col) of
 * the kernel from input channel `channel`, scaled to ± the largest |w| of
 * all its kernels. FALSE when the selection has no such picture. */
gboolean cs_network_view_state_get_weight_cell_rect (const CsNetworkViewState *state,
                                                   int                       width,
                                                   int                       height,
                                                   guint                     channel,
                                                   guint                     row,
                                                   guint                     col,
                                                   graphene_rect_t          *rect);

gboolean cs_network_view_state_select             (CsNetworkViewState       *state,
                                                   int                       act,
                                                   int                       index);
/* The most telling item: the most active hidden unit of a perceptron, the
 * most active map of a convolutional network's first convolution. */
gboolean cs_network_view_state_select_default     (CsNetworkViewState       *state);
/* Moves the selection to the nearest item that way in its column, or into
 * the next column left or right at its edge. */
gboolean cs_network_view_state_move_selection     (CsNetworkViewState       *state,
                                                   int                       width,
                                                   int                       height,
                                                   CsNetworkMove             move);
/* The selection as a unit of the model: a hidden unit (or output) of a
 * linear layer, or the kernel of a convolution whose map is selected —
 * the layer's index and the unit's (its weight's row). FALSE for the
 * input or an activation no linear layer or convolution makes. */
gboolean cs_network_view_state_get_selected_unit  (const CsNetworkViewState *state,
                                                   guint                    *layer,
                                                   guint                    *unit);
/* The selection in words, for the label and the accessible description. */
char    *cs_network_view_state_describe_selection (const CsNetworkViewState *state);

#define CS_TYPE_NETWORK_VIEW (cs_network_view_get_type ())
G_DECLARE_FINAL_TYPE (CsNetworkView, cs_network_view, CS, NETWORK_VIEW, GtkWidget)

GtkWidget  *cs_network_view_new                  (void);
/* Takes a reference. Keeps the selection when the network is the same. */
void        cs_network_view_set_snapshot         (CsNetworkView      *self,
                                                  CsSnapshot         *snapshot);
CsSnapshot *cs_network_view_get_snapshot         (CsNetworkView      *self);
void        cs_network_view_set_show_gradients   (CsNetworkView      *self,
                                                  gboolean            show);
gboolean    cs_network_view_get_show_gradients   (CsNetworkView      *self);
/* Names of the classes, label k's at k (NULL: the digits). Copied. */
void        cs_network_view_set_class_names      (CsNetworkView      *self,
                                                  const char *const  *names);
/* The training run whose selected unit or kernel the Freeze and Zero
 * buttons act on (through its trainer's commands), when the picture is of
 * its model; NULL: none (the buttons are off). */
void        cs_network_view_set_training         (CsNetworkView      *self,
                                                  CsTraining         *training);
CsTraining *cs_network_view_get_training         (CsNetworkView      *self);
gboolean    cs_network_view_select               (CsNetworkView      *self,
                                                  int                 act,
                                                  int                 index);
const CsNetworkViewState *cs_network_view_get_state (CsNetworkView   *self);

G_END_DECLS
