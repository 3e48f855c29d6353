/* cs-palette.h — the colours of every heat map, and their legends
 *
 * Signed values (weights, gradients) use a diverging palette: blue below
 * zero, white at zero, red above, ColorBrewer's RdBu, which stays readable
 * for the common forms of colour blindness. Non-negative values
 * (activations after ReLU, pixels, probabilities) use a sequential one:
 * white to dark blue-purple (ColorBrewer's BuPu). Every heat map carries a
 * legend drawn by cs_palette_draw_legend().
 *
 * Lines and categories (one curve per layer) take their colours from a
 * qualitative palette, Okabe and Ito's, whose hues stay apart for the
 * common forms of colour blindness; its yellow is left out, being too
 * light to read as a line on white.
 */
#pragma once

#include <cairo.h>
#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  double r, g, b;
} CsRgb;

typedef enum
{
  CS_PALETTE_DIVERGING,   /* t in [−1, 1] */
  CS_PALETTE_SEQUENTIAL,  /* t in [0, 1] */
} CsPaletteKind;

/* The colour of t, clamped to the palette's range; NaN is mid grey. */
CsRgb  cs_palette_color        (CsPaletteKind kind, double t);

/* value → t for a heat map whose scale is ±limit (diverging) or
 * 0 … limit (sequential); limit ≤ 0 maps everything to 0. */
double cs_palette_normalize    (CsPaletteKind kind, double value, double limit);

/* The colour of category i: CS_PALETTE_N_QUALITATIVE hues, then again. */
#define CS_PALETTE_N_QUALITATIVE 7
CsRgb  cs_palette_qualitative  (guint i);

/* Black or white, whichever reads better on background. */
CsRgb  cs_palette_text_on      (CsRgb background);

void   cs_palette_set_source   (cairo_t *cr, CsRgb color);

/* A horizontal colour bar in (x, y, width, height) with its end and middle
 * values written below it, and a caption on the left of the bar. */
void   cs_palette_draw_legend  (cairo_t      *cr,
                                CsPaletteKind kind,
                                double        limit,
                                const char   *caption,
                                double        x,
                                double        y,
                                double        width,
                                double        height);

G_END_DECLS
