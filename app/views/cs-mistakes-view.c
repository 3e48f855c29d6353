/* cs-mistakes-view.c — the Mistakes view: the confusion matrix and the misclassified digits
 *
 * The figure is one drawing area; two transparent focusable areas lie over
 * the matrix and the gallery (as the Draw view's canvas lies over its
 * square) and take the pointer and the keys, each with its own accessible
 * name and a description that follows its cursor. A toolbar above: all
 * mistakes, the pages, and what was evaluated. Children are made here, as
 * the Gradients view's are.
 */
#include "cs-mistakes-view.h"

#include "cs-grid.h"
#include "cs-palette.h"

#include <glib/gi18n.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>

#define C CS_MISTAKES_CLASSES

/* The diagonal (right answers): grey, which no palette colour is */
#define DIAGONAL_RGB ((CsRgb) { 0.85, 0.85, 0.86 })
/* The wrong answer's words: a dark orange that reads on white and stands
 * apart from the blue-purple palette for the common colour blindnesses */
#define WRONG_RGB ((CsRgb) { 0.70, 0.30, 0.0 })
#define FRAME_RGB ((CsRgb) { 0.60, 0.60, 0.62 })

/* ------------------------------------------------------------------ */
/* The state and its picture: no widget, no display                    */
/* ------------------------------------------------------------------ */

void
cs_mistakes_view_state_init (CsMistakesViewState *state)
{
  g_return_if_fail (state != NULL);
  *state = (CsMistakesViewState) { .filter = -1, .hover = -1, .cell = 0 };
}

void
cs_mistakes_view_layout (int width, int height, CsMistakesLayout *l)
{
  g_return_if_fail (l != NULL);

  double W = MAX (width, 1), H = MAX (height, 1);
  double f = CLAMP (MIN (W / 95.0, H / 46.0), 9.0, 20.0);
  double m = CLAMP (MIN (W, H) * 0.03, 8.0, 32.0);
  double left = f * 3.6, top = f * 6.2, right = f * 3.8, bottom = f * 6.6;

  double cell = MIN ((H - 2 * m - top - bottom) / C, (W * 0.46 - m - left - right) / C);
  cell = MAX (floor (cell), 12.0);
  l->font = f;
  l->cell = cell;
  l->matrix = GRAPHENE_RECT_INIT (round (m + left), round (m + top), cell * C, cell * C);
  double below = l->matrix.origin.y + cell * C;
  l->legend = GRAPHENE_RECT_INIT (l->matrix.origin.x + f * 5.0, below + f * 1.0,
                                  MAX (cell * C * 0.45, f * 6), f * 0.9);

  double gx = l->matrix.origin.x + cell * C + right + f * 1.5;
  double gy = m + f * 3.8;
  l->gallery = GRAPHENE_RECT_INIT (gx, gy, MAX (W - m - gx, 1), MAX (H - m - f * 2.2 - gy, 1));
  /* pictures as large as a page of 24 allows, within reason */
  l->gap = round (f * 0.8);
  for (double picture = CLAMP (round (f * 4.2), 36.0, 96.0);; picture += 4)
    {
      double tw = MAX (picture, round (f * 7.4)), th = picture + round (f * 2.9);
      guint cols = (guint) MAX (1.0, floor ((l->gallery.size.width + l->gap) / (tw + l->gap)));
      guint rows = (guint) MAX (1.0, floor ((l->gallery.size.height + l->gap) / (th + l->gap)));
      if (picture > CLAMP (round (f * 4.2), 36.0, 96.0) && (cols * rows < 24 || picture > 112))
        break;
      l->picture = picture;
      l->tile_width = tw;
      l->tile_height = th;
      l->columns = cols;
      l->rows = rows;
    }
}

guint
cs_mistakes_layout_per_page (const CsMistakesLayout *l)
{
  g_return_val_if_fail (l != NULL, 1);
  return MAX (l->columns * l->rows, 1u);
}

void
cs_mistakes_layout_cell_rect (const CsMistakesLayout *l, int cell, graphene_rect_t *rect)
{
  g_return_if_fail (l != NULL && rect != NULL);
  g_return_if_fail (cell >= 0 && cell < C * C);
  int t = cell / C, p = cell % C;
  *rect = GRAPHENE_RECT_INIT (l->matrix.origin.x + p * l->cell, l->matrix.origin.y + t * l->cell,
                              l->cell, l->cell);
}

int
cs_mistakes_layout_hit_cell (const CsMistakesLayout *l, double x, double y)
{
  g_return_val_if_fail (l != NULL, -1);
  double cx = (x - l->matrix.origin.x) / l->cell, cy = (y - l->matrix.origin.y) / l->cell;
  if (cx < 0 || cy < 0 || cx >= C || cy >= C)
    return -1;
  return (int) cy * C + (int) cx;
}

/* The page shown: state->page, within the pages there are. */
static guint
shown_page (const CsMistakesViewState *state, const CsMistakesLayout *l)
{
  guint per = cs_mistakes_layout_per_page (l);
  guint pages = MAX ((state->n_shown + per - 1) / per, 1u);
  return MIN (state->page, pages - 1);
}

gboolean
cs_mistakes_view_state_tile_rect (const CsMistakesViewState *state, const CsMistakesLayout *l,
                                  guint position, graphene_rect_t *rect)
{
  g_return_val_if_fail (state != NULL && l != NULL && rect != NULL, FALSE);
  guint per = cs_mistakes_layout_per_page (l);
  guint first = shown_page (state, l) * per;
  if (position >= state->n_shown || position < first || position >= first + per)
    return FALSE;
  guint i = position - first;
  guint col = i % l->columns, row = i / l->columns;
  *rect = GRAPHENE_RECT_INIT (l->gallery.origin.x + col * (l->tile_width + l->gap),
                              l->gallery.origin.y + row * (l->tile_height + l->gap),
                              l->tile_width, l->tile_height);
  return TRUE;
}

int
cs_mistakes_view_state_hit_tile (const CsMistakesViewState *state, const CsMistakesLayout *l,
                                 double x, double y)
{
  g_return_val_if_fail (state != NULL && l != NULL, -1);
  double gx = x - l->gallery.origin.x, gy = y - l->gallery.origin.y;
  if (gx < 0 || gy < 0)
    return -1;
  guint col = (guint) (gx / (l->tile_width + l->gap)), row = (guint) (gy / (l->tile_height + l->gap));
  if (col >= l->columns || row >= l->rows)
    return -1;
  /* the gaps between tiles are no tile's */
  if (gx - col * (l->tile_width + l->gap) > l->tile_width
      || gy - row * (l->tile_height + l->gap) > l->tile_height)
    return -1;
  guint position = shown_page (state, l) * cs_mistakes_layout_per_page (l) + row * l->columns + col;
  return position < state->n_shown ? (int) position : -1;
}

/* ---- the list of mistakes ---------------------------------------------- */

typedef struct
{
  const CsMistakesResult *result;
} SortData;

static int
compare_wrong (gconstpointer a, gconstpointer b, gpointer data)
{
  const CsMistakesResult *r = ((SortData *) data)->result;
  guint32 i = *(const guint32 *) a, j = *(const guint32 *) b;
  float pi = r->probs[(gsize) i * C + r->predicted[i]];
  float pj = r->probs[(gsize) j * C + r->predicted[j]];
  if (pi != pj)
    return pi > pj ? -1 : 1;
  return i < j ? -1 : i > j;
}

guint
cs_mistakes_collect (const CsMistakesResult *result, const CsDataset *test, int cell,
                     guint32 *out)
{
  g_return_val_if_fail (result != NULL && test != NULL, 0);
  g_return_val_if_fail (result->n == test->n, 0);

  guint n = 0;
  for (guint32 i = 0; i < result->n; i++)
    {
      int t = test->labels[i], p = result->predicted[i];
      if (t == p || (cell >= 0 && (t != cell / C || p != cell % C)))
        continue;
      if (out != NULL)
        out[n] = i;
      n++;
    }
  if (out != NULL)
    {
      SortData data = { result };
      g_qsort_with_data (out, (gint) n, sizeof (guint32), compare_wrong, &data);
    }
  return n;
}

/* ---- words ------------------------------------------------------------- */

static guint32
row_total (const CsMistakesResult *r, int t)
{
  guint32 sum = 0;
  for (int p = 0; p < C; p++)
    sum += r->confusion[t * C + p];
  return sum;
}

char *
cs_mistakes_view_state_describe_cell (const CsMistakesViewState *state, int cell)
{
  g_return_val_if_fail (state != NULL, NULL);
  if (state->result == NULL || cell < 0 || cell >= C * C)
    return NULL;
  int t = cell / C, p = cell % C;
  guint32 count = state->result->confusion[cell], row = row_total (state->result, t);
  double pct = row ? 100.0 * count / row : 0.0;
  if (t == p)
    return g_strdup_printf (_("True %d, predicted %d: %u of the %u test digits that are %d, "
                              "right (%.1f%% of the row)"),
                            t, p, count, row, t, pct);
  return g_strdup_printf (_("True %d, predicted %d: %u of the %u test digits that are %d "
                            "(%.1f%% of the row)"),
                          t, p, count, row, t, pct);
}

char *
cs_mistakes_view_state_describe_example (const CsMistakesViewState *state, guint position)
{
  g_return_val_if_fail (state != NULL, NULL);
  if (state->result == NULL || state->test == NULL || position >= state->n_shown)
    return NULL;
  guint32 i = state->shown[position];
  int t = state->test->labels[i], p = state->result->predicted[i];
  const float *probs = state->result->probs + (gsize) i * C;
  return g_strdup_printf (_("Mistake %u of %u: test digit %u, a %d, taken for a %d "
                            "(%.1f%% sure); %d had %.1f%%"),
                          position + 1, state->n_shown, i, t, p, 100.0 * probs[p], t,
                          100.0 * probs[t]);
}

/* "SimpleCNN, pretrained" or "MLP 784-256-10, training step 1200" */
static char *
weights_title (const CsMistakesResult *r)
{
  if (r->training_step >= 0)
    return g_strdup_printf (_("%s, training step %" PRId64), r->title, r->training_step);
  if (r->trained)
    return g_strdup_printf (_("%s, pretrained"), r->title);
  return g_strdup_printf (_("%s, untrained"), r->title);
}

char *
cs_mistakes_view_state_describe_result (const CsMistakesViewState *state)
{
  g_return_val_if_fail (state != NULL, NULL);
  if (state->result == NULL)
    return g_strdup (state->message ? state->message
                                    : _("Evaluating the network on the test digits…"));
  const CsMistakesResult *r = state->result;
  g_autofree char *title = weights_title (r);
  return g_strdup_printf (_("%s: %u of %u test digits right (%.1f%%), %u mistakes, loss %.3f"),
                          title, r->eval.correct, r->eval.n, 100.0 * r->eval.accuracy,
                          r->eval.n - r->eval.correct, r->eval.loss);
}

/* ---- drawing ----------------------------------------------------------- */

/* Markup with its box aligned at (x, y) as cs_grid_draw_text; wrapped at
 * max_width when that is > 0. */
static void
show (cairo_t *cr, const char *markup, double size, gboolean bold, double x, double y,
      double ax, double ay, CsRgb color, double max_width)
{
  PangoLayout *layout = cs_grid_layout_new ("", size, bold);
  pango_layout_set_markup (layout, markup, -1);
  if (max_width > 0)
    {
      pango_layout_set_width (layout, (int) (max_width * PANGO_SCALE));
      pango_layout_set_wrap (layout, PANGO_WRAP_WORD);
    }
  PangoRectangle logical;
  pango_layout_get_extents (layout, NULL, &logical);
  cs_grid_draw_layout (cr, layout, x - ax * logical.width / PANGO_SCALE,
                       y - ay * logical.height / PANGO_SCALE, color);
  g_object_unref (layout);
}

static void
show_text (cairo_t *cr, const char *text, double size, gboolean bold, double x, double y,
           double ax, double ay, CsRgb color)
{
  cs_grid_draw_text (cr, text, size, bold, x, y, ax, ay, color);
}

static cairo_rectangle_t
to_cairo (const graphene_rect_t *r)
{
  return (cairo_rectangle_t) { r->origin.x, r->origin.y, r->size.width, r->size.height };
}

static void
draw_matrix (const CsMistakesViewState *state, const CsMistakesLayout *l, cairo_t *cr, int width)
{
  const CsMistakesResult *r = state->result;
  double f = l->font, cell = l->cell;
  double mx = l->matrix.origin.x, my = l->matrix.origin.y, side = cell * C;
  char text[32];

  /* the title, and what was evaluated */
  double m = l->gallery.origin.y - f * 3.8;
  show_text (cr, _("Confusion matrix"), f * 1.3, TRUE, mx - f * 3.6, m, 0, 0, CS_GRID_INK);
  if (r != NULL)
    {
      g_autofree char *title = weights_title (r);
      g_autofree char *sub = g_strdup_printf (_("%s · %u of %u test digits right (%.1f%%)"), title,
                                              r->eval.correct, r->eval.n, 100.0 * r->eval.accuracy);
      show_text (cr, sub, f, FALSE, mx - f * 3.6, m + f * 1.8, 0, 0, CS_GRID_INK_DIM);
    }

  /* the axes */
  show_text (cr, _("predicted class →"), f, FALSE, mx + side / 2, my - f * 1.7, 0.5, 1,
             CS_GRID_INK_DIM);
  cairo_save (cr);
  cairo_translate (cr, mx - f * 2.3, my + side / 2);
  cairo_rotate (cr, -G_PI / 2);
  show_text (cr, _("← true class"), f, FALSE, 0, 0, 0.5, 1, CS_GRID_INK_DIM);
  cairo_restore (cr);
  show_text (cr, _("right"), f * 0.85, FALSE, mx + side + f * 3.4, my - f * 0.3, 1, 1,
             CS_GRID_INK_DIM);
  for (int k = 0; k < C; k++)
    {
      g_snprintf (text, sizeof text, "%d", k);
      show_text (cr, text, f * 1.1, TRUE, mx + (k + 0.5) * cell, my - f * 0.3, 0.5, 1, CS_GRID_INK);
      show_text (cr, text, f * 1.1, TRUE, mx - f * 0.5, my + (k + 0.5) * cell, 1, 0.5, CS_GRID_INK);
    }

  /* the cells */
  guint32 worst = 1;
  if (r != NULL)
    for (int i = 0; i < C * C; i++)
      if (i / C != i % C)
        worst = MAX (worst, r->confusion[i]);
  double size = MIN (cell * 0.36, f * 1.1);
  for (int i = 0; i < C * C; i++)
    {
      graphene_rect_t g;
      cs_mistakes_layout_cell_rect (l, i, &g);
      cairo_rectangle_t rc = to_cairo (&g);
      gboolean diagonal = i / C == i % C;
      guint32 count = r != NULL ? r->confusion[i] : 0;
      CsRgb bg = diagonal ? DIAGONAL_RGB
                          : cs_palette_color (CS_PALETTE_SEQUENTIAL,
                                              cs_palette_normalize (CS_PALETTE_SEQUENTIAL, count, worst));
      cs_palette_set_source (cr, r != NULL ? bg : (CsRgb) { 0.95, 0.95, 0.95 });
      cairo_rectangle (cr, rc.x, rc.y, rc.width, rc.height);
      cairo_fill (cr);
      if (r != NULL && (count > 0 || diagonal))
        {
          g_snprintf (text, sizeof text, "%u", count);
          show_text (cr, text, size, diagonal, rc.x + rc.width / 2, rc.y + rc.height / 2, 0.5, 0.5,
                     cs_palette_text_on (bg));
        }
    }
  /* white lines between the cells, a frame round them */
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_set_line_width (cr, 1);
  for (int k = 1; k < C; k++)
    {
      cairo_move_to (cr, mx + k * cell, my);
      cairo_line_to (cr, mx + k * cell, my + side);
      cairo_move_to (cr, mx, my + k * cell);
      cairo_line_to (cr, mx + side, my + k * cell);
    }
  cairo_stroke (cr);
  cs_palette_set_source (cr, FRAME_RGB);
  cairo_rectangle (cr, mx - 0.5, my - 0.5, side + 1, side + 1);
  cairo_stroke (cr);

  /* each row's share of right answers */
  if (r != NULL)
    for (int t = 0; t < C; t++)
      {
        guint32 row = row_total (r, t);
        g_snprintf (text, sizeof text, "%.0f%%", row ? 100.0 * r->confusion[t * C + t] / row : 0.0);
        show_text (cr, text, f * 0.9, FALSE, mx + side + f * 3.4, my + (t + 0.5) * cell, 1, 0.5,
                   CS_GRID_INK_DIM);
      }

  /* the marks: the gallery's cell, the keyboard's, the pointer's */
  graphene_rect_t g;
  cairo_rectangle_t rc;
  if (state->filter >= 0)
    {
      cs_mistakes_layout_cell_rect (l, state->filter, &g);
      rc = to_cairo (&g);
      cs_grid_draw_mark (cr, &rc, CS_GRID_MARK_WINNER);
    }
  if (state->matrix_focus && state->cell >= 0 && state->cell < C * C)
    {
      cs_mistakes_layout_cell_rect (l, state->cell, &g);
      rc = to_cairo (&g);
      cs_grid_draw_mark (cr, &rc, CS_GRID_MARK_WINDOW);
    }
  if (state->hover >= 0 && state->hover < C * C)
    {
      cs_mistakes_layout_cell_rect (l, state->hover, &g);
      rc = to_cairo (&g);
      cs_grid_draw_mark (cr, &rc, CS_GRID_MARK_HOVER);
    }

  /* the legend: the mistakes' scale, the diagonal's grey */
  const graphene_rect_t *lg = &l->legend;
  cs_palette_draw_legend (cr, CS_PALETTE_SEQUENTIAL, worst, _("mistakes"), lg->origin.x,
                          lg->origin.y, lg->size.width, lg->size.height);
  double sx = lg->origin.x + lg->size.width + f * 1.5;
  cs_palette_set_source (cr, DIAGONAL_RGB);
  cairo_rectangle (cr, sx, lg->origin.y, lg->size.height * 1.6, lg->size.height);
  cairo_fill (cr);
  show_text (cr, _("right (diagonal)"), MAX (9.0, lg->size.height * 0.8), FALSE,
             sx + lg->size.height * 2.0, lg->origin.y + lg->size.height / 2, 0, 0.5, CS_GRID_INK);

  /* the cell pointed at, or the keyboard's, or the gallery's, in words */
  int which = state->hover >= 0 ? state->hover
            : state->matrix_focus ? state->cell
            : state->filter;
  g_autofree char *words = cs_mistakes_view_state_describe_cell (state, which);
  if (words == NULL)
    words = g_strdup (r != NULL ? _("Point at a cell for its count; click one to see its mistakes")
                                : state->message ? state->message
                                                 : _("Evaluating the network on the test digits…"));
  g_autofree char *escaped = g_markup_escape_text (words, -1);
  show (cr, escaped, f * 0.95, FALSE, mx - f * 3.6, lg->origin.y + lg->size.height + f * 2.2, 0, 0,
        CS_GRID_INK, MIN (side + f * 7.4, width - mx));
}

/* The picture of test digit i in (x, y, side): ink dark on white, its
 * pixels as they are (no smoothing). */
static void
draw_digit (cairo_t *cr, const CsDataset *test, guint32 i, double x, double y, double side)
{
  int rows = (int) test->rows, cols = (int) test->cols;
  cairo_surface_t *mask = cairo_image_surface_create (CAIRO_FORMAT_A8, cols, rows);
  cairo_surface_flush (mask);
  guint8 *data = cairo_image_surface_get_data (mask);
  int stride = cairo_image_surface_get_stride (mask);
  const guint8 *px = test->images + (gsize) i * rows * cols;
  for (int r = 0; r < rows; r++)
    for (int c = 0; c < cols; c++)
      data[r * stride + c] = px[r * cols + c];
  cairo_surface_mark_dirty (mask);

  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_rectangle (cr, x, y, side, side);
  cairo_fill (cr);
  cairo_save (cr);
  cairo_rectangle (cr, x, y, side, side);
  cairo_clip (cr);
  cairo_translate (cr, x, y);
  cairo_scale (cr, side / cols, side / rows);
  cairo_pattern_t *pattern = cairo_pattern_create_for_surface (mask);
  cairo_pattern_set_filter (pattern, CAIRO_FILTER_NEAREST);
  cairo_set_source_rgb (cr, 0.05, 0.05, 0.08);
  cairo_mask (cr, pattern);
  cairo_pattern_destroy (pattern);
  cairo_restore (cr);
  cairo_surface_destroy (mask);

  cs_palette_set_source (cr, FRAME_RGB);
  cairo_set_line_width (cr, 1);
  cairo_rectangle (cr, x - 0.5, y - 0.5, side + 1, side + 1);
  cairo_stroke (cr);
}

static void
draw_gallery (const CsMistakesViewState *state, const CsMistakesLayout *l, cairo_t *cr)
{
  const CsMistakesResult *r = state->result;
  const graphene_rect_t *g = &l->gallery;
  double f = l->font;
  guint per = cs_mistakes_layout_per_page (l);
  guint page = shown_page (state, l);
  guint pages = MAX ((state->n_shown + per - 1) / per, 1u);

  /* the title: which mistakes, in which order */
  g_autofree char *title = NULL;
  if (state->filter >= 0)
    title = g_strdup_printf (_("Mistakes: true %d, predicted %d (%u)"), state->filter / C,
                             state->filter % C, state->n_shown);
  else
    title = g_strdup_printf (_("Mistakes (%u)"), state->n_shown);
  double top = g->origin.y - f * 3.8;
  show_text (cr, title, f * 1.3, TRUE, g->origin.x, top, 0, 0, CS_GRID_INK);
  g_autofree char *sub = g_strdup_printf ("<span foreground='#b34d00'><b>%s</b></span> · %s",
                                          _("predicted class · its probability"),
                                          _("true class · its probability"));
  show (cr, sub, f, FALSE, g->origin.x, top + f * 1.8, 0, 0, CS_GRID_INK_DIM, -1);

  if (r == NULL || state->test == NULL)
    return;
  if (state->n_shown == 0)
    {
      show_text (cr, state->filter >= 0 && state->filter / C == state->filter % C
                       ? _("The diagonal holds the right answers")
                       : _("No mistakes here"),
                 f * 1.2, FALSE, g->origin.x + g->size.width / 2, g->origin.y + g->size.height / 3,
                 0.5, 0.5, CS_GRID_INK_DIM);
      return;
    }

  char text[96];
  for (guint pos = page * per; pos < MIN (state->n_shown, (page + 1) * per); pos++)
    {
      graphene_rect_t t;
      if (!cs_mistakes_view_state_tile_rect (state, l, pos, &t))
        continue;
      guint32 i = state->shown[pos];
      int label = state->test->labels[i], p = r->predicted[i];
      const float *probs = r->probs + (gsize) i * C;
      double px = t.origin.x + (t.size.width - l->picture) / 2, py = t.origin.y;
      draw_digit (cr, state->test, i, px, py, l->picture);

      double cx = t.origin.x + t.size.width / 2;
      g_snprintf (text, sizeof text, "%d · %.0f%%", p, 100.0 * probs[p]);
      show_text (cr, text, f * 1.05, TRUE, cx, py + l->picture + f * 0.2, 0.5, 0, WRONG_RGB);
      g_autofree char *truth = g_strdup_printf (_("true %d · %.1f%%"), label, 100.0 * probs[label]);
      show_text (cr, truth, f * 0.9, FALSE, cx, py + l->picture + f * 1.5, 0.5, 0, CS_GRID_INK_DIM);

      if (state->gallery_focus && pos == state->cursor)
        {
          cairo_rectangle_t rc = to_cairo (&t);
          cs_palette_set_source (cr, CS_GRID_WINDOW);
          cairo_set_line_width (cr, 2.5);
          cairo_rectangle (cr, rc.x - 3, rc.y - 3, rc.width + 6, rc.height + 6);
          cairo_stroke (cr);
        }
    }

  g_autofree char *footer = g_strdup_printf (_("Page %u of %u · Page Up, Page Down · a click or "
                                               "Enter opens a digit in the Draw view"),
                                             page + 1, pages);
  show_text (cr, footer, f * 0.9, FALSE, g->origin.x, g->origin.y + g->size.height + f * 0.6, 0, 0,
             CS_GRID_INK_DIM);
}

void
cs_mistakes_view_state_draw (const CsMistakesViewState *state, cairo_t *cr, int width, int height)
{
  g_return_if_fail (state != NULL && cr != NULL);

  CsMistakesLayout l;
  cs_mistakes_view_layout (width, height, &l);
  cairo_save (cr);
  cs_palette_set_source (cr, CS_GRID_BACKGROUND);
  cairo_rectangle (cr, 0, 0, width, height);
  cairo_fill (cr);
  draw_matrix (state, &l, cr, width);
  draw_gallery (state, &l, cr);
  cairo_restore (cr);
}

/* ------------------------------------------------------------------ */
/* The widget                                                          */
/* ------------------------------------------------------------------ */

struct _CsMistakesView
{
  GtkWidget parent_instance;

  CsMistakes *mistakes;
  CsMistakesViewState state;
  guint32 *shown;               /* (the test split's n): state.shown */
  guint resize_idle;

  /* children, unparented in dispose */
  GtkWidget *toolbar;
  GtkWidget *overlay;
  /* inside them */
  GtkWidget *all_button, *previous_button, *next_button, *page_label, *status_label;
  GtkWidget *figure, *matrix_area, *gallery_area;
};

enum {
  EXAMPLE_ACTIVATED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void cs_mistakes_view_view_init (CsViewInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (CsMistakesView, cs_mistakes_view, GTK_TYPE_WIDGET,
                               G_IMPLEMENT_INTERFACE (CS_TYPE_VIEW, cs_mistakes_view_view_init))

static void
cs_mistakes_view_draw (CsView *view, cairo_t *cr, int width, int height)
{
  cs_mistakes_view_state_draw (&CS_MISTAKES_VIEW (view)->state, cr, width, height);
}

static void
cs_mistakes_view_view_init (CsViewInterface *iface)
{
  iface->draw = cs_mistakes_view_draw;
}

static void
figure_draw (GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer data)
{
  cs_mistakes_view_state_draw (&CS_MISTAKES_VIEW (data)->state, cr, width, height);
}

static void
figure_layout (CsMistakesView *self, CsMistakesLayout *l)
{
  cs_mistakes_view_layout (gtk_widget_get_width (self->overlay),
                           gtk_widget_get_height (self->overlay), l);
}

static guint
n_pages (CsMistakesView *self)
{
  CsMistakesLayout l;
  figure_layout (self, &l);
  guint per = cs_mistakes_layout_per_page (&l);
  return MAX ((self->state.n_shown + per - 1) / per, 1u);
}

/* After anything changed: the toolbar, the words for screen readers, the
 * picture. */
static void
sync_view (CsMistakesView *self)
{
  CsMistakesViewState *s = &self->state;
  guint pages = n_pages (self);
  s->page = MIN (s->page, pages - 1);

  g_autofree char *status = cs_mistakes_view_state_describe_result (s);
  gtk_label_set_text (GTK_LABEL (self->status_label), status);
  g_autofree char *page = g_strdup_printf (_("Page %u of %u"), s->page + 1, pages);
  gtk_label_set_text (GTK_LABEL (self->page_label), page);
  gtk_widget_set_sensitive (self->previous_button, s->page > 0);
  gtk_widget_set_sensitive (self->next_button, s->page + 1 < pages);
  gtk_widget_set_sensitive (self->all_button, s->filter >= 0);

  g_autofree char *cell = cs_mistakes_view_state_describe_cell (s, s->cell);
  g_autofree char *matrix = g_strdup_printf ("%s. %s", status, cell ? cell : "");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->matrix_area),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, matrix, -1);
  g_autofree char *example = cs_mistakes_view_state_describe_example (s, s->cursor);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->gallery_area),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  example ? example : _("No mistakes shown"), -1);
  gtk_widget_queue_draw (self->figure);
}

/* The gallery's list again, for a new result or filter. */
static void
collect (CsMistakesView *self)
{
  CsMistakesViewState *s = &self->state;
  s->n_shown = s->result && s->test ? cs_mistakes_collect (s->result, s->test, s->filter, self->shown)
                                    : 0;
  s->cursor = MIN (s->cursor, s->n_shown > 0 ? s->n_shown - 1 : 0);
}

static void
on_changed (CsMistakes *mistakes, CsMistakesView *self)
{
  self->state.result = cs_mistakes_get_result (mistakes);
  self->state.message = cs_mistakes_get_error (mistakes);
  collect (self);
  sync_view (self);
}

void
cs_mistakes_view_set_filter (CsMistakesView *self, int cell)
{
  g_return_if_fail (CS_IS_MISTAKES_VIEW (self));
  g_return_if_fail (cell >= -1 && cell < C * C);

  self->state.filter = cell;
  self->state.page = 0;
  self->state.cursor = 0;
  collect (self);
  sync_view (self);
}

void
cs_mistakes_view_set_page (CsMistakesView *self, guint page)
{
  g_return_if_fail (CS_IS_MISTAKES_VIEW (self));

  CsMistakesLayout l;
  figure_layout (self, &l);
  guint per = cs_mistakes_layout_per_page (&l);
  self->state.page = MIN (page, n_pages (self) - 1);
  /* the keyboard's cursor goes along */
  if (self->state.cursor / per != self->state.page)
    self->state.cursor = MIN (self->state.page * per, self->state.n_shown ? self->state.n_shown - 1 : 0);
  sync_view (self);
}

void
cs_mistakes_view_activate (CsMistakesView *self, guint position)
{
  g_return_if_fail (CS_IS_MISTAKES_VIEW (self));
  if (position >= self->state.n_shown)
    return;
  self->state.cursor = position;
  sync_view (self);
  g_signal_emit (self, signals[EXAMPLE_ACTIVATED], 0, (guint) self->shown[position]);
}

/* A click (or Enter) on a cell: its mistakes, or all of them again for the
 * diagonal or the cell already shown. */
static void
choose_cell (CsMistakesView *self, int cell)
{
  gboolean diagonal = cell / C == cell % C;
  cs_mistakes_view_set_filter (self, diagonal || cell == self->state.filter ? -1 : cell);
}

/* ---- the overlays -------------------------------------------------------- */

static gboolean
on_get_child_position (GtkOverlay *overlay, GtkWidget *child, GdkRectangle *allocation,
                       CsMistakesView *self)
{
  CsMistakesLayout l;
  figure_layout (self, &l);
  const graphene_rect_t *r = child == self->matrix_area ? &l.matrix : &l.gallery;
  allocation->x = (int) floor (r->origin.x);
  allocation->y = (int) floor (r->origin.y);
  allocation->width = MAX ((int) ceil (r->size.width), 1);
  allocation->height = MAX ((int) ceil (r->size.height), 1);
  return TRUE;
}

/* (x, y) in an overlay child to the figure's coordinates. */
static void
to_figure (CsMistakesView *self, GtkWidget *child, double *x, double *y)
{
  graphene_point_t in = GRAPHENE_POINT_INIT (*x, *y), out;
  if (gtk_widget_compute_point (child, self->overlay, &in, &out))
    *x = out.x, *y = out.y;
}

static void
on_matrix_pressed (GtkGestureClick *gesture, int n_press, double x, double y, CsMistakesView *self)
{
  CsMistakesLayout l;
  figure_layout (self, &l);
  to_figure (self, self->matrix_area, &x, &y);
  gtk_widget_grab_focus (self->matrix_area);
  int cell = cs_mistakes_layout_hit_cell (&l, x, y);
  if (cell < 0)
    return;
  self->state.cell = cell;
  choose_cell (self, cell);
}

static void
on_matrix_motion (GtkEventControllerMotion *motion, double x, double y, CsMistakesView *self)
{
  CsMistakesLayout l;
  figure_layout (self, &l);
  to_figure (self, self->matrix_area, &x, &y);
  int cell = cs_mistakes_layout_hit_cell (&l, x, y);
  if (cell != self->state.hover)
    {
      self->state.hover = cell;
      sync_view (self);
    }
}

static void
on_matrix_leave (GtkEventControllerMotion *motion, CsMistakesView *self)
{
  if (self->state.hover >= 0)
    {
      self->state.hover = -1;
      sync_view (self);
    }
}

/* The cell under the pointer in words (not by gtk_widget_set_tooltip_text (),
 * which would take the place of the accessible description). */
static gboolean
on_matrix_query_tooltip (GtkWidget *widget, int x, int y, gboolean keyboard, GtkTooltip *tooltip,
                         CsMistakesView *self)
{
  CsMistakesLayout l;
  figure_layout (self, &l);
  double fx = x, fy = y;
  to_figure (self, widget, &fx, &fy);
  int cell = keyboard ? self->state.cell : cs_mistakes_layout_hit_cell (&l, fx, fy);
  g_autofree char *text = cs_mistakes_view_state_describe_cell (&self->state, cell);
  if (text == NULL)
    return FALSE;
  gtk_tooltip_set_text (tooltip, text);
  return TRUE;
}

static gboolean
on_matrix_key (GtkEventControllerKey *controller, guint keyval, guint keycode,
               GdkModifierType modifiers, CsMistakesView *self)
{
  if (modifiers & (GDK_CONTROL_MASK | GDK_ALT_MASK))
    return FALSE;
  int row = self->state.cell / C, col = self->state.cell % C;
  switch (keyval)
    {
    case GDK_KEY_Return:
    case GDK_KEY_KP_Enter:
    case GDK_KEY_space:
      choose_cell (self, self->state.cell);
      return TRUE;
    case GDK_KEY_Escape:
      if (self->state.filter < 0)
        return FALSE;
      cs_mistakes_view_set_filter (self, -1);
      return TRUE;
    default:
      if (!cs_grid_step_key (keyval, C, C, &row, &col))
        return FALSE;
      self->state.cell = row * C + col;
      sync_view (self);
      return TRUE;
    }
}

static void
on_gallery_pressed (GtkGestureClick *gesture, int n_press, double x, double y, CsMistakesView *self)
{
  CsMistakesLayout l;
  figure_layout (self, &l);
  to_figure (self, self->gallery_area, &x, &y);
  gtk_widget_grab_focus (self->gallery_area);
  int position = cs_mistakes_view_state_hit_tile (&self->state, &l, x, y);
  if (position >= 0)
    cs_mistakes_view_activate (self, (guint) position);
}

static gboolean
on_gallery_key (GtkEventControllerKey *controller, guint keyval, guint keycode,
                GdkModifierType modifiers, CsMistakesView *self)
{
  if (modifiers & (GDK_CONTROL_MASK | GDK_ALT_MASK))
    return FALSE;
  CsMistakesViewState *s = &self->state;
  CsMistakesLayout l;
  figure_layout (self, &l);
  guint per = cs_mistakes_layout_per_page (&l);
  int cursor = (int) s->cursor, last = (int) s->n_shown - 1;
  switch (keyval)
    {
    case GDK_KEY_Return:
    case GDK_KEY_KP_Enter:
    case GDK_KEY_space:
      cs_mistakes_view_activate (self, s->cursor);
      return TRUE;
    case GDK_KEY_Page_Up:
    case GDK_KEY_KP_Page_Up:
      cs_mistakes_view_set_page (self, s->page > 0 ? s->page - 1 : 0);
      return TRUE;
    case GDK_KEY_Page_Down:
    case GDK_KEY_KP_Page_Down:
      cs_mistakes_view_set_page (self, s->page + 1);
      return TRUE;
    case GDK_KEY_Left:
    case GDK_KEY_KP_Left:
      cursor--;
      break;
    case GDK_KEY_Right:
    case GDK_KEY_KP_Right:
      cursor++;
      break;
    case GDK_KEY_Up:
    case GDK_KEY_KP_Up:
      cursor -= (int) l.columns;
      break;
    case GDK_KEY_Down:
    case GDK_KEY_KP_Down:
      cursor += (int) l.columns;
      break;
    case GDK_KEY_Home:
    case GDK_KEY_KP_Home:
      cursor = 0;
      break;
    case GDK_KEY_End:
    case GDK_KEY_KP_End:
      cursor = last;
      break;
    default:
      return FALSE;
    }
  if (last < 0)
    return TRUE;
  s->cursor = (guint) CLAMP (cursor, 0, last);
  s->page = s->cursor / per;
  sync_view (self);
  return TRUE;
}

static void
on_focus_changed (CsMistakesView *self)
{
  self->state.matrix_focus = gtk_widget_has_focus (self->matrix_area);
  self->state.gallery_focus = gtk_widget_has_focus (self->gallery_area);
  gtk_widget_queue_draw (self->figure);
}

static gboolean
resized_idle (gpointer data)
{
  CsMistakesView *self = data;
  self->resize_idle = 0;
  sync_view (self);
  return G_SOURCE_REMOVE;
}

/* The pages change with the size: the toolbar says so after the layout
 * (not while it is being allocated). */
static void
on_overlay_resized (CsMistakesView *self)
{
  if (self->resize_idle == 0)
    self->resize_idle = g_idle_add (resized_idle, self);
}

/* ---- the toolbar --------------------------------------------------------- */

static void
on_all_clicked (GtkButton *button, CsMistakesView *self)
{
  cs_mistakes_view_set_filter (self, -1);
}

static void
on_previous_clicked (GtkButton *button, CsMistakesView *self)
{
  if (self->state.page > 0)
    cs_mistakes_view_set_page (self, self->state.page - 1);
}

static void
on_next_clicked (GtkButton *button, CsMistakesView *self)
{
  cs_mistakes_view_set_page (self, self->state.page + 1);
}

/* ---- the object ---------------------------------------------------------- */

static void
on_map (CsMistakesView *self)
{
  cs_mistakes_set_active (self->mistakes, TRUE);
}

static void
on_unmap (CsMistakesView *self)
{
  cs_mistakes_set_active (self->mistakes, FALSE);
}

static void
cs_mistakes_view_dispose (GObject *object)
{
  CsMistakesView *self = CS_MISTAKES_VIEW (object);

  if (self->mistakes != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->mistakes, self);
      cs_mistakes_set_active (self->mistakes, FALSE);
    }
  g_clear_object (&self->mistakes);
  g_clear_handle_id (&self->resize_idle, g_source_remove);
  g_clear_pointer (&self->toolbar, gtk_widget_unparent);
  g_clear_pointer (&self->overlay, gtk_widget_unparent);
  self->state.result = NULL;
  self->state.test = NULL;
  self->state.message = NULL;

  G_OBJECT_CLASS (cs_mistakes_view_parent_class)->dispose (object);
}

static void
cs_mistakes_view_finalize (GObject *object)
{
  CsMistakesView *self = CS_MISTAKES_VIEW (object);
  g_free (self->shown);
  G_OBJECT_CLASS (cs_mistakes_view_parent_class)->finalize (object);
}

static void
cs_mistakes_view_class_init (CsMistakesViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = cs_mistakes_view_dispose;
  object_class->finalize = cs_mistakes_view_finalize;

  /**
   * CsMistakesView::example-activated:
   * @index: the test digit's index in the test split
   *
   * A digit of the gallery was clicked, or Enter pressed on it.
   */
  signals[EXAMPLE_ACTIVATED] =
    g_signal_new ("example-activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_UINT);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BOX_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "mistakesview");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static GtkWidget *
icon_button (const char *icon, const char *label, const char *tip)
{
  GtkWidget *button = gtk_button_new_from_icon_name (icon);
  gtk_widget_set_tooltip_text (button, tip);
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
  return button;
}

static GtkWidget *
overlay_area (CsMistakesView *self, const char *label)
{
  GtkWidget *area = gtk_drawing_area_new ();
  gtk_widget_set_focusable (area, TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (area), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
  g_signal_connect_swapped (area, "notify::has-focus", G_CALLBACK (on_focus_changed), self);
  gtk_overlay_add_overlay (GTK_OVERLAY (self->overlay), area);
  return area;
}

static void
cs_mistakes_view_init (CsMistakesView *self)
{
  cs_mistakes_view_state_init (&self->state);

  GtkLayoutManager *box = gtk_widget_get_layout_manager (GTK_WIDGET (self));
  gtk_orientable_set_orientation (GTK_ORIENTABLE (box), GTK_ORIENTATION_VERTICAL);

  self->toolbar = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  gtk_widget_add_css_class (self->toolbar, "toolbar");
  gtk_widget_set_parent (self->toolbar, GTK_WIDGET (self));

  self->all_button = gtk_button_new_with_label (_("All mistakes"));
  gtk_widget_set_tooltip_text (self->all_button,
                               _("Show every mistake again, not only one cell's (Escape)"));
  g_signal_connect (self->all_button, "clicked", G_CALLBACK (on_all_clicked), self);
  gtk_box_append (GTK_BOX (self->toolbar), self->all_button);

  GtkWidget *pages = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  self->previous_button = icon_button ("go-previous-symbolic", _("Previous page"),
                                       _("The previous page of mistakes (Page Up)"));
  g_signal_connect (self->previous_button, "clicked", G_CALLBACK (on_previous_clicked), self);
  self->page_label = gtk_label_new (NULL);
  self->next_button = icon_button ("go-next-symbolic", _("Next page"),
                                   _("The next page of mistakes (Page Down)"));
  g_signal_connect (self->next_button, "clicked", G_CALLBACK (on_next_clicked), self);
  gtk_box_append (GTK_BOX (pages), self->previous_button);
  gtk_box_append (GTK_BOX (pages), self->page_label);
  gtk_box_append (GTK_BOX (pages), self->next_button);
  gtk_box_append (GTK_BOX (self->toolbar), pages);

  self->status_label = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (self->status_label), 1.0f);
  gtk_label_set_ellipsize (GTK_LABEL (self->status_label), PANGO_ELLIPSIZE_END);
  gtk_widget_set_hexpand (self->status_label, TRUE);
  gtk_box_append (GTK_BOX (self->toolbar), self->status_label);

  self->overlay = gtk_overlay_new ();
  gtk_widget_set_hexpand (self->overlay, TRUE);
  gtk_widget_set_vexpand (self->overlay, TRUE);
  gtk_widget_set_parent (self->overlay, GTK_WIDGET (self));
  g_signal_connect (self->overlay, "get-child-position", G_CALLBACK (on_get_child_position), self);

  self->figure = gtk_drawing_area_new ();
  gtk_widget_set_hexpand (self->figure, TRUE);
  gtk_widget_set_vexpand (self->figure, TRUE);
  gtk_drawing_area_set_content_width (GTK_DRAWING_AREA (self->figure), 720);
  gtk_drawing_area_set_content_height (GTK_DRAWING_AREA (self->figure), 420);
  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (self->figure), figure_draw, self, NULL);
  g_signal_connect_swapped (self->figure, "resize", G_CALLBACK (on_overlay_resized), self);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->figure), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("The confusion matrix on the test digits and the "
                                    "misclassified ones"), -1);
  gtk_overlay_set_child (GTK_OVERLAY (self->overlay), self->figure);

  self->matrix_area = overlay_area (self, _("Confusion matrix: point at a cell or use the arrow "
                                            "keys; a click or Enter shows its mistakes"));
  gtk_widget_set_has_tooltip (self->matrix_area, TRUE);
  g_signal_connect (self->matrix_area, "query-tooltip", G_CALLBACK (on_matrix_query_tooltip), self);
  GtkGesture *click = gtk_gesture_click_new ();
  g_signal_connect (click, "pressed", G_CALLBACK (on_matrix_pressed), self);
  gtk_widget_add_controller (self->matrix_area, GTK_EVENT_CONTROLLER (click));
  GtkEventController *motion = gtk_event_controller_motion_new ();
  g_signal_connect (motion, "motion", G_CALLBACK (on_matrix_motion), self);
  g_signal_connect (motion, "leave", G_CALLBACK (on_matrix_leave), self);
  gtk_widget_add_controller (self->matrix_area, motion);
  GtkEventController *keys = gtk_event_controller_key_new ();
  g_signal_connect (keys, "key-pressed", G_CALLBACK (on_matrix_key), self);
  gtk_widget_add_controller (self->matrix_area, keys);

  self->gallery_area = overlay_area (self, _("Misclassified test digits: arrow keys, Page Up, "
                                             "Page Down; a click or Enter opens one in the Draw "
                                             "view"));
  gtk_widget_set_cursor_from_name (self->gallery_area, "pointer");
  click = gtk_gesture_click_new ();
  g_signal_connect (click, "pressed", G_CALLBACK (on_gallery_pressed), self);
  gtk_widget_add_controller (self->gallery_area, GTK_EVENT_CONTROLLER (click));
  keys = gtk_event_controller_key_new ();
  g_signal_connect (keys, "key-pressed", G_CALLBACK (on_gallery_key), self);
  gtk_widget_add_controller (self->gallery_area, keys);

  g_signal_connect (self, "map", G_CALLBACK (on_map), NULL);
  g_signal_connect (self, "unmap", G_CALLBACK (on_unmap), NULL);
}

GtkWidget *
cs_mistakes_view_new (CsMistakes *mistakes)
{
  g_return_val_if_fail (CS_IS_MISTAKES (mistakes), NULL);

  CsMistakesView *self = g_object_new (CS_TYPE_MISTAKES_VIEW, NULL);
  self->mistakes = g_object_ref (mistakes);
  const CsDataset *test = cs_mistakes_get_dataset (mistakes);
  self->state.test = test;
  self->shown = g_new (guint32, test ? MAX (test->n, 1) : 1);
  self->state.shown = self->shown;
  g_signal_connect (mistakes, "changed", G_CALLBACK (on_changed), self);
  on_changed (mistakes, self);
  return GTK_WIDGET (self);
}

CsMistakes *
cs_mistakes_view_get_mistakes (CsMistakesView *self)
{
  g_return_val_if_fail (CS_IS_MISTAKES_VIEW (self), NULL);
  return self->mistakes;
}

const CsMistakesViewState *
cs_mistakes_view_get_state (CsMistakesView *self)
{
  g_return_val_if_fail (CS_IS_MISTAKES_VIEW (self), NULL);
  return &self->state;
}
