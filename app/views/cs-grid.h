/* cs-grid.h — heat-map grids of numbers, the drawing the views share
 *
 * The Convolution, pooling and Backward views draw the same things: cells
 * coloured by value (cs-palette.h) with the number written in them, padding
 * cells that are visibly not data, outlines for the sliding window, the
 * current and the hovered cell, and the winner of a max-pool window. Sizes
 * are given in device units and everything scales with the cell.
 *
 * Text goes through one PangoContext of its own (hinting off, sizes in
 * pixels), so the layout functions the widgets use for hit-testing measure
 * text exactly as the drawing does, on any surface.
 */
#pragma once

#include <cairo.h>
#include <pango/pangocairo.h>

#include "cs-palette.h"
#include "cs-style.h"

G_BEGIN_DECLS

/* The colours the marks are drawn with: the tests look for them. */
#define CS_GRID_BACKGROUND   ((CsRgb) { 0.98, 0.98, 0.98 })
#define CS_GRID_INK          ((CsRgb) { 0.12, 0.12, 0.12 })  /* text */
#define CS_GRID_INK_DIM      (cs_style_high_contrast () ? CS_GRID_INK : CS_GRID_INK_SOFT)
#define CS_GRID_INK_SOFT     ((CsRgb) { 0.36, 0.36, 0.36 })  /* hints, captions */
#define CS_GRID_PADDING      ((CsRgb) { 0.80, 0.80, 0.80 })  /* no palette colour is grey */
#define CS_GRID_WINDOW       ((CsRgb) { 0.10, 0.10, 0.10 })  /* outer line of a window cell */
#define CS_GRID_WINNER       ((CsRgb) { 1.00, 0.69, 0.00 })  /* gold: the max-pool winner */

typedef enum
{
  CS_GRID_MARK_WINDOW,   /* a cell of the current window, or the current cell */
  CS_GRID_MARK_HOVER,    /* the same under the pointer: dashed */
  CS_GRID_MARK_WINNER,   /* the max-pool winner: gold inside the window line */
} CsGridMark;

/* The width of a mark's line for cells of side cell; the window line covers
 * [0, w] inside the cell's edge, a white line [w, 1.5w], the winner's gold
 * [1.5w, 3w]: all within the outer 20% of the cell, where no number is. */
double       cs_grid_mark_width   (double cell);

/* A PangoLayout of text at size pixels, from the views' own context. */
PangoLayout *cs_grid_layout_new   (const char *text, double size, gboolean bold);
void         cs_grid_text_extents (const char *text, double size, gboolean bold,
                                   double *width, double *height);
/* Draws text with its box aligned at (x, y): ax, ay = 0 left/top,
 * 0.5 centre, 1 right/bottom. */
void         cs_grid_draw_text    (cairo_t *cr, const char *text, double size, gboolean bold,
                                   double x, double y, double ax, double ay, CsRgb color);
void         cs_grid_draw_layout  (cairo_t *cr, PangoLayout *layout, double x, double y,
                                   CsRgb color);

/* A cell filled with the palette's colour of value (scale ±limit or
 * 0 … limit) and the number written in it, in black or white, whichever
 * reads (cs_palette_text_on); the number is kept inside the middle 60% (78%
 * for a long one), and where the exact number would be too small to read,
 * it is shortened to 3, then 2 significant digits. */
void         cs_grid_draw_value   (cairo_t *cr, const cairo_rectangle_t *r,
                                   CsPaletteKind kind, double limit, double value);
/* A padding cell: flat grey, a dashed border, text (e.g. "0" or "−∞") in
 * dim italics. */
void         cs_grid_draw_padding (cairo_t *cr, const cairo_rectangle_t *r, const char *text);
void         cs_grid_draw_mark    (cairo_t *cr, const cairo_rectangle_t *r, CsGridMark mark);
/* A small label (e.g. "max", "×2") in the bottom band of a cell, at align
 * 0.5 (centred) or 1 (right), in ink, on a box of that colour if box. */
void         cs_grid_draw_tag     (cairo_t *cr, const cairo_rectangle_t *r, const char *text,
                                   double align, CsRgb ink, const CsRgb *box);

/* Moves (row, col) in a rows × cols grid: by delta cells in reading order,
 * wrapping round at either end. */
void         cs_grid_step         (int rows, int cols, int delta, int *row, int *col);
/* The same for a key: ← → one cell in reading order, ↑ ↓ one row (stopping
 * at the edges), Home the first cell, End the last. FALSE for other keys. */
gboolean     cs_grid_step_key     (guint keyval, int rows, int cols, int *row, int *col);

/* The largest |value|, at least a small positive number: a legend's limit. */
double       cs_grid_limit        (const float *values, int n);

G_END_DECLS
