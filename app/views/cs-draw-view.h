/* cs-draw-view.h — the Draw view: a canvas, what the network sees, and its answer
 *
 * On the left a square canvas to draw a digit on with a round brush; in the
 * middle the 28 × 28 picture the network really receives (the canvas after
 * the MNIST-style preprocessing: cropped to the ink, scaled into 20 × 20,
 * centred by its centre of mass), as a grid in the sequential palette with
 * a legend; on the right the predicted digit, big, and the ten softmax
 * probabilities as bars with the logits written beside them. The prediction
 * follows the stroke while it is being drawn. A picture already in the
 * network's form (a test digit from the Mistakes view) can be put on the
 * canvas instead: it is fed as it is, and strokes drawn over it add to it.
 *
 * The picture is a pure function of a CsDrawViewState onto a cairo_t, so the
 * tests draw it into image surfaces with no display, and the export menu
 * into PNG, SVG and PDF. The widget adds the controls (MLP or CNN, undo,
 * clear), the pointer input and the accessible prediction label, whose
 * name is "Prediction: 7" (or "Prediction: none").
 */
#pragma once

#include <gtk/gtk.h>

#include "cs-session.h"
#include "cs-view.h"

G_BEGIN_DECLS

/* The canvas is rasterised at RASTER × RASTER grey levels for the network
 * (ten pixels for each of the 28, as the classic 280 × 280 canvas). */
#define CS_DRAW_VIEW_RASTER  280
/* The brush's diameter in canvas widths: 21 of 280 pixels. A digit drawn
 * across most of the canvas comes out about 2 pixels wide in MNIST's 20 × 20
 * box, as MNIST's pen strokes are. */
#define CS_DRAW_VIEW_BRUSH   0.075

/* A point of a stroke, in canvas units: 0..1 across and down. */
typedef struct
{
  double x, y;
} CsDrawPoint;

typedef struct
{
  GPtrArray   *strokes;        /* of GArray of CsDrawPoint, oldest first */
  float       *image;          /* NULL, or (28, 28) in 0..1, ink 1: a picture
                                * loaded under the strokes (a test digit) */
  char        *caption;        /* the image's title ("Test digit 12: a 4"), or NULL */
  double       brush;          /* diameter, canvas units */
  CsPrediction prediction;     /* what the session made of the canvas */
  const char  *model_title;    /* "SimpleCNN" (not owned) */
  const char  *highlight;      /* "canvas", "input", "probabilities" or NULL
                                * (interned; cs_view_set_highlight ()) */
} CsDrawViewState;

typedef struct
{
  double x, y, width, height;
} CsDrawRect;

/* Where each part of the picture goes in a width × height figure. */
typedef struct
{
  double     font;             /* base font size, pixels */
  CsDrawRect canvas;           /* the square drawn on */
  CsDrawRect grid;             /* the 28 × 28 input: cell (r, c) is
                                * grid.x + c · grid.width / 28, … */
  CsDrawRect legend;           /* the grid's colour bar */
  CsDrawRect digit;            /* the predicted digit */
  CsDrawRect bars;             /* the bar tracks: class i's row is
                                * bars.y + i · bars.height / 10, full length
                                * bars.width for probability 1 */
} CsDrawViewLayout;

void     cs_draw_view_layout             (int                    width,
                                          int                    height,
                                          CsDrawViewLayout      *layout);

void     cs_draw_view_state_init         (CsDrawViewState       *state);
void     cs_draw_view_state_clear        (CsDrawViewState       *state);
/* Strokes: a new one begins at (x, y); points are added to the last. */
void     cs_draw_view_state_begin_stroke (CsDrawViewState       *state,
                                          double                 x,
                                          double                 y);
void     cs_draw_view_state_add_point    (CsDrawViewState       *state,
                                          double                 x,
                                          double                 y);
/* image: (28, 28) in 0..1, ink 1, copied, or NULL; caption may be NULL.
 * The strokes are kept: clear them first for the image alone. */
void     cs_draw_view_state_set_image    (CsDrawViewState       *state,
                                          const float           *image,
                                          const char            *caption);
/* gray: (side, side), the image (scaled, bilinear) and the strokes over it
 * in black (0) on white (1), antialiased: what the session's preprocessing
 * reads. */
void     cs_draw_view_state_rasterize    (const CsDrawViewState *state,
                                          float                 *gray,
                                          int                    side);
/* The whole view into (0, 0, width, height) of cr. */
void     cs_draw_view_state_draw         (const CsDrawViewState *state,
                                          cairo_t               *cr,
                                          int                    width,
                                          int                    height);

#define CS_TYPE_DRAW_VIEW (cs_draw_view_get_type ())
G_DECLARE_FINAL_TYPE (CsDrawView, cs_draw_view, CS, DRAW_VIEW, GtkWidget)

GtkWidget             *cs_draw_view_new       (CsSession  *session);
CsSession             *cs_draw_view_get_session (CsDrawView *self);
const CsDrawViewState *cs_draw_view_get_state (CsDrawView *self);
/* Rasterises the canvas and predicts now (the pointer path does it once a
 * frame). */
void                   cs_draw_view_predict   (CsDrawView *self);
void                   cs_draw_view_undo      (CsDrawView *self);
/* Puts a picture already in the network's form on the canvas (pixels:
 * (28, 28) in 0..1, ink 1; caption may be NULL), in place of the drawing
 * (Ctrl+Z brings the drawing back), and predicts: the session's input is
 * then the picture itself, not preprocessed again. Strokes drawn over it
 * are added to it, and the two are preprocessed together. */
void                   cs_draw_view_load_image (CsDrawView  *self,
                                                const float *pixels,
                                                const char  *caption);
void                   cs_draw_view_clear     (CsDrawView *self);

G_END_DECLS
