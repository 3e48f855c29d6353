/* cs-conv-view.c — the Convolution view: the worked example, cell by cell
 *
 * Two halves: the picture (a layout computed from the state and the size,
 * then drawn; hit-testing uses the same layout) and the widget (controls,
 * stepping, editing), which owns the spec, asks the engine for a CsWorked
 * after every change and draws its state.
 */
#include "cs-conv-view.h"
#include "cs-grid.h"
#include "cs-palette.h"
#include "cs-stepper.h"
#include "cs-worked-text.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#define PLAY_INTERVAL_MS 900

/* ===========================================================================
 * The picture
 */

typedef struct
{
  gboolean picture;         /* FALSE: the reason instead of grids */
  double margin;
  double type;              /* body text size, pixels */
  double cell;              /* side of a cell */
  int rows[3], cols[3];     /* cells drawn; the input's include its padding ring */
  int pad_rows, pad_cols;   /* the input's padding */
  double slot_x[3], slot_w[3];
  double grid_x[3], grid_y[3];
  double op_x[2], op_y;     /* centres of "⊛" and "=" */
  double title_size;
  double legend_y, legend_h;
  double text_x, text_y, text_w;
  double eq_size;
} ConvLayout;

/* Everything below the grids, measured once per layout. */
typedef struct
{
  PangoLayout *equation;
  PangoLayout *formulas;
  PangoLayout *hint;
} ConvText;

static void
conv_text_clear (ConvText *text)
{
  g_clear_object (&text->equation);
  g_clear_object (&text->formulas);
  g_clear_object (&text->hint);
}

static double
layout_height (PangoLayout *layout)
{
  PangoRectangle logical;

  if (layout == NULL)
    return 0.0;
  pango_layout_get_extents (layout, NULL, &logical);
  return (double) logical.height / PANGO_SCALE;
}

static PangoLayout *
wrapped (const char *markup, double size, double width)
{
  PangoLayout *layout = cs_grid_layout_new ("", size, FALSE);

  pango_layout_set_markup (layout, markup, -1);
  pango_layout_set_width (layout, (int) (width * PANGO_SCALE));
  pango_layout_set_wrap (layout, PANGO_WRAP_WORD_CHAR);
  return layout;
}

static char *
grid_title (const CsWorkedSpec *spec, const CsSlidingWindow *g, CsConvGrid grid)
{
  switch (grid)
    {
    case CS_CONV_GRID_INPUT:
      if (g->ph > 0 || g->pw > 0)
        /* TRANSLATORS: the input grid's title; sizes are rows×columns */
        return g_strdup_printf (_("Input x  %d×%d, padding %d"), g->H, g->W, MAX (g->ph, g->pw));
      return g_strdup_printf (_("Input x  %d×%d"), g->H, g->W);
    case CS_CONV_GRID_KERNEL:
      if (g->dh > 1 || g->dw > 1)
        return g_strdup_printf (_("Kernel w  %d×%d, dilation %d"), g->kh, g->kw,
                                MAX (g->dh, g->dw));
      return g_strdup_printf (_("Kernel w  %d×%d"), g->kh, g->kw);
    case CS_CONV_GRID_OUTPUT:
      if (g->sh > 1 || g->sw > 1)
        return g_strdup_printf (_("Output  %d×%d, stride %d"), g->OH, g->OW,
                                MAX (g->sh, g->sw));
      return g_strdup_printf (_("Output  %d×%d"), g->OH, g->OW);
    default:
      g_assert_not_reached ();
    }
}

/* "H_out = ⌊(5 + 2·0 − 1·(3−1) − 1)/1⌋ + 1 = 3" and the same for W. */
static char *
formulas_markup (const CsWorkedSpec *spec)
{
  g_autofree char *h = cs_window_out_size_formula (spec->H, spec->kh, spec->stride[0],
                                                   spec->padding[0], spec->dilation[0]);
  g_autofree char *w = cs_window_out_size_formula (spec->W, spec->kw, spec->stride[1],
                                                   spec->padding[1], spec->dilation[1]);
  g_autofree char *general = g_markup_printf_escaped (
    "%s = %s   (%s)", _("Output size"), CS_WINDOW_OUT_SIZE_FORMULA,
    /* TRANSLATORS: the letters of the output-size formula */
    _("H input size, p padding, d dilation, k kernel size, s stride"));
  g_autofree char *hl = g_markup_escape_text (h, -1), *wl = g_markup_escape_text (w, -1);

  return g_strdup_printf ("<span foreground=\"%s\">%s</span>\n"
                          "H<sub>out</sub> = %s\nW<sub>out</sub> = %s", CS_STYLE_DIM_MARKUP, general,
                          hl, wl);
}

static char *
output_name (int row, int col)
{
  /* TRANSLATORS: an output cell, [row,column] counted from 0 */
  return g_strdup_printf (_("Output [%d,%d]"), row, col);
}

static ConvText
conv_text (const CsConvViewState *state, const ConvLayout *L)
{
  ConvText text = { NULL };
  g_autofree char *formulas = formulas_markup (state->spec);

  text.formulas = wrapped (formulas, L->type, L->text_w);
  if (state->worked != NULL)
    {
      g_autofree char *name = output_name (state->row, state->col);
      g_autofree char *products = cs_conv_view_state_products_text (state);
      g_autofree char *markup = g_markup_printf_escaped ("<b>%s</b> = %s", name, products);
      text.equation = wrapped (markup, L->eq_size, L->text_w);
      text.hint = wrapped (_("← → ↑ ↓, Home, End or a click on an output cell move the "
                             "window; a click on an input or kernel cell changes its number."),
                           L->type * 0.8, L->text_w);
    }
  else
    {
      g_autofree char *markup = g_markup_printf_escaped (
        "<b>%s</b>\n%s", _("The kernel does not fit: there is no output."), state->error);
      text.equation = wrapped (markup, L->eq_size, L->text_w);
      text.hint = wrapped (_("Lower the dilation or the stride, or add padding, so that the "
                             "window fits in the padded input."),
                           L->type * 0.8, L->text_w);
    }
  return text;
}

/* The grids a lesson can point at, by CsConvGrid */
static const char *const conv_highlights[] = { "input", "kernel", "output", NULL };

static void
conv_layout (const CsConvViewState *state, int width, int height, ConvLayout *L,
             ConvText *text_out)
{
  memset (L, 0, sizeof *L);
  L->margin = round (MAX (10.0, 0.025 * MIN (width, height)));
  L->type = CLAMP (MIN (width / 68.0, height / 44.0), 10.0, 40.0) * cs_style_type ();
  L->eq_size = L->type * 1.15;
  L->title_size = L->type * 1.05;
  L->text_x = L->margin;
  L->text_w = MAX (1.0, width - 2 * L->margin);

  double t = L->type;
  ConvText text = conv_text (state, L);
  /* room for at least two lines of products, however many this cell has */
  int eq_lines = MAX (1, pango_layout_get_line_count (text.equation));
  double eq_h = layout_height (text.equation) * MAX (eq_lines, 2) / eq_lines;
  double text_h = eq_h + 0.5 * t + layout_height (text.formulas) + 0.5 * t
                  + layout_height (text.hint);

  if (state->worked == NULL)
    {
      L->picture = FALSE;
      L->text_y = L->margin;
      if (text_out != NULL)
        *text_out = text;
      else
        conv_text_clear (&text);
      return;
    }
  L->picture = TRUE;

  const CsWorkedStage *conv = cs_worked_find_stage (state->worked, CS_WORKED_STAGE_CONV);
  const CsSlidingWindow *g = conv->window;
  L->pad_rows = g->ph;
  L->pad_cols = g->pw;
  L->rows[CS_CONV_GRID_INPUT] = g->H + 2 * g->ph;
  L->cols[CS_CONV_GRID_INPUT] = g->W + 2 * g->pw;
  L->rows[CS_CONV_GRID_KERNEL] = g->kh;
  L->cols[CS_CONV_GRID_KERNEL] = g->kw;
  L->rows[CS_CONV_GRID_OUTPUT] = g->OH;
  L->cols[CS_CONV_GRID_OUTPUT] = g->OW;

  /* Each grid has a column at least as wide as its title and a legend. */
  double fixed[3], op_w = 2.4 * t, legend_min = 6.5 * t, title_h = 0;
  int R = 0;
  for (int i = 0; i < 3; i++)
    {
      g_autofree char *title = grid_title (cs_worked_get_spec (state->worked), g, i);
      double tw, th;
      cs_grid_text_extents (title, L->title_size, TRUE, &tw, &th);
      fixed[i] = MAX (tw, legend_min);
      title_h = MAX (title_h, th);
      R = MAX (R, L->rows[i]);
    }

  /* The cell side from the width: columns wider than their grid stay so. */
  double avail = L->text_w - 2 * op_w, c_w = 0;
  gboolean by_grid[3] = { TRUE, TRUE, TRUE };
  for (int pass = 0; pass < 4; pass++)
    {
      double rest = avail;
      int n = 0;
      for (int i = 0; i < 3; i++)
        if (by_grid[i])
          n += L->cols[i];
        else
          rest -= fixed[i];
      c_w = n > 0 ? rest / n : 1e9;
      gboolean changed = FALSE;
      for (int i = 0; i < 3; i++)
        if (by_grid[i] && L->cols[i] * c_w < fixed[i])
          by_grid[i] = FALSE, changed = TRUE;
      if (!changed)
        break;
    }

  double legend_bar = 0.9 * t;
  L->legend_h = legend_bar + 2 + MAX (9.0, legend_bar * 0.8) * 1.3;
  double fixed_h = title_h + 0.35 * t + 0.7 * t + L->legend_h + 0.9 * t + text_h;
  double c_h = (height - 2 * L->margin - fixed_h) / R;
  L->cell = floor (MAX (6.0, MIN (MIN (c_w, c_h), 5.5 * t)));
  double c = L->cell;

  double total = 2 * op_w;
  for (int i = 0; i < 3; i++)
    {
      L->slot_w[i] = MAX (L->cols[i] * c, fixed[i]);
      total += L->slot_w[i];
    }
  double content_h = fixed_h + R * c;
  double x = L->margin + MAX (0.0, (L->text_w - total) / 2);
  double y = L->margin + MAX (0.0, (height - 2 * L->margin - content_h) / 2);
  double band_y = y + title_h + 0.35 * t;

  for (int i = 0; i < 3; i++)
    {
      L->slot_x[i] = x;
      L->grid_x[i] = round (x + (L->slot_w[i] - L->cols[i] * c) / 2);
      L->grid_y[i] = round (band_y + (R - L->rows[i]) * c / 2);
      x += L->slot_w[i];
      if (i < 2)
        {
          L->op_x[i] = x + op_w / 2;
          x += op_w;
        }
    }
  L->op_y = band_y + R * c / 2;
  L->legend_y = band_y + R * c + 0.7 * t;
  L->text_y = L->legend_y + L->legend_h + 0.9 * t;

  if (text_out != NULL)
    *text_out = text;
  else
    conv_text_clear (&text);
}

static gboolean
layout_cell_rect (const ConvLayout *L, CsConvGrid grid, int row, int col,
                  cairo_rectangle_t *rect)
{
  int r = row, c = col;

  if (!L->picture || (guint) grid > CS_CONV_GRID_OUTPUT)
    return FALSE;
  if (grid == CS_CONV_GRID_INPUT)
    r += L->pad_rows, c += L->pad_cols;
  if (r < 0 || c < 0 || r >= L->rows[grid] || c >= L->cols[grid])
    return FALSE;
  *rect = (cairo_rectangle_t) {
    L->grid_x[grid] + c * L->cell, L->grid_y[grid] + r * L->cell, L->cell, L->cell,
  };
  return TRUE;
}

gboolean
cs_conv_view_state_cell_rect (const CsConvViewState *state, int width, int height,
                              CsConvGrid grid, int row, int col, cairo_rectangle_t *rect)
{
  ConvLayout L;

  g_return_val_if_fail (state != NULL && state->spec != NULL, FALSE);
  g_return_val_if_fail (rect != NULL, FALSE);
  conv_layout (state, width, height, &L, NULL);
  return layout_cell_rect (&L, grid, row, col, rect);
}

gboolean
cs_conv_view_state_hit (const CsConvViewState *state, int width, int height, double x,
                        double y, CsConvGrid *grid, int *row, int *col)
{
  ConvLayout L;

  g_return_val_if_fail (state != NULL && state->spec != NULL, FALSE);
  conv_layout (state, width, height, &L, NULL);
  if (!L.picture)
    return FALSE;
  for (int i = 0; i < 3; i++)
    {
      int c = (int) floor ((x - L.grid_x[i]) / L.cell);
      int r = (int) floor ((y - L.grid_y[i]) / L.cell);
      if (r < 0 || c < 0 || r >= L.rows[i] || c >= L.cols[i])
        continue;
      if (i == CS_CONV_GRID_INPUT)
        {
          r -= L.pad_rows, c -= L.pad_cols;
          const CsWorkedSpec *spec = cs_worked_get_spec (state->worked);
          if (r < 0 || c < 0 || r >= spec->H || c >= spec->W)
            return FALSE;  /* padding is not data */
        }
      if (grid != NULL)
        *grid = i;
      if (row != NULL)
        *row = r;
      if (col != NULL)
        *col = c;
      return TRUE;
    }
  return FALSE;
}

static const CsWorkedConvCell *
current_cell (const CsConvViewState *state, int row, int col)
{
  const CsWorkedStage *conv;

  if (state->worked == NULL)
    return NULL;
  conv = cs_worked_find_stage (state->worked, CS_WORKED_STAGE_CONV);
  if (row < 0 || col < 0 || row >= conv->rows || col >= conv->cols)
    return NULL;
  return cs_worked_get_conv_cell (state->worked, row, col);
}

char *
cs_conv_view_state_products_text (const CsConvViewState *state)
{
  g_return_val_if_fail (state != NULL, NULL);

  const CsWorkedConvCell *cell = current_cell (state, state->row, state->col);
  if (cell == NULL)
    return NULL;
  return cs_worked_text_conv_cell (cell, cs_worked_get_spec (state->worked)->has_bias);
}

char *
cs_conv_view_state_describe (const CsConvViewState *state)
{
  g_return_val_if_fail (state != NULL, NULL);

  g_autofree char *products = cs_conv_view_state_products_text (state);
  if (products == NULL)
    return g_strdup_printf (_("No output: %s"), state->error != NULL ? state->error : "");
  g_autofree char *name = output_name (state->row, state->col);
  return g_strdup_printf ("%s = %s", name, products);
}

static void
draw_window (cairo_t *cr, const ConvLayout *L, const CsWorkedConvCell *cell, CsGridMark mark)
{
  cairo_rectangle_t r;

  for (int t = 0; t < cell->n_terms; t++)
    if (layout_cell_rect (L, CS_CONV_GRID_INPUT, cell->terms[t].row, cell->terms[t].col, &r))
      cs_grid_draw_mark (cr, &r, mark);
  if (layout_cell_rect (L, CS_CONV_GRID_OUTPUT, cell->row, cell->col, &r))
    cs_grid_draw_mark (cr, &r, mark);
}

/* "×2" in each cell of the window: the weight it is multiplied by. */
static void
draw_weights (cairo_t *cr, const ConvLayout *L, const CsWorkedConvCell *cell, double limit)
{
  cairo_rectangle_t r;

  for (int t = 0; t < cell->n_terms; t++)
    {
      const CsWorkedTerm *term = &cell->terms[t];
      if (!layout_cell_rect (L, CS_CONV_GRID_INPUT, term->row, term->col, &r))
        continue;
      CsRgb fill = term->padding
        ? CS_GRID_PADDING
        : cs_palette_color (CS_PALETTE_DIVERGING,
                            cs_palette_normalize (CS_PALETTE_DIVERGING, term->input, limit));
      g_autofree char *w = cs_worked_text_factor (term->weight);
      g_autofree char *tag = g_strdup_printf ("×%s", w);
      cs_grid_draw_tag (cr, &r, tag, 1.0, cs_palette_text_on (fill), NULL);
    }
}

static void
draw_operator (cairo_t *cr, const ConvLayout *L, int i, const char *op)
{
  cs_grid_draw_text (cr, op, L->type * 1.8, FALSE, L->op_x[i], L->op_y, 0.5, 0.5,
                     CS_GRID_INK);
}

void
cs_conv_view_state_draw (const CsConvViewState *state, cairo_t *cr, int width, int height)
{
  ConvLayout L;
  ConvText text;

  g_return_if_fail (state != NULL && state->spec != NULL);
  g_return_if_fail (cr != NULL);

  conv_layout (state, width, height, &L, &text);
  cairo_save (cr);
  cs_palette_set_source (cr, CS_GRID_BACKGROUND);
  cairo_rectangle (cr, 0, 0, width, height);
  cairo_fill (cr);

  if (L.picture)
    {
      CsWorked *w = state->worked;
      const CsWorkedSpec *spec = cs_worked_get_spec (w);
      const CsWorkedStage *input = cs_worked_find_stage (w, CS_WORKED_STAGE_INPUT);
      const CsWorkedStage *conv = cs_worked_find_stage (w, CS_WORKED_STAGE_CONV);
      const float *values[3] = { input->values, spec->kernel, conv->values };
      double limits[3] = {
        cs_grid_limit (input->values, input->rows * input->cols),
        cs_grid_limit (spec->kernel, spec->kh * spec->kw),
        cs_grid_limit (conv->values, conv->rows * conv->cols),
      };
      cairo_rectangle_t r;

      for (int i = 0; i < 3; i++)
        {
          g_autofree char *title = grid_title (spec, conv->window, i);
          double c0 = L.slot_x[i] + L.slot_w[i] / 2;
          cs_grid_draw_text (cr, title, L.title_size, TRUE, c0, L.grid_y[i] - 0.35 * L.type,
                             0.5, 1.0, CS_GRID_INK);

          int pr = i == CS_CONV_GRID_INPUT ? L.pad_rows : 0;
          int pc = i == CS_CONV_GRID_INPUT ? L.pad_cols : 0;
          int data_cols = L.cols[i] - 2 * pc;
          for (int row = -pr; row < L.rows[i] - pr; row++)
            for (int col = -pc; col < L.cols[i] - pc; col++)
              {
                layout_cell_rect (&L, i, row, col, &r);
                if (row < 0 || col < 0 || row >= L.rows[i] - 2 * pr || col >= data_cols)
                  cs_grid_draw_padding (cr, &r, "0");
                else
                  cs_grid_draw_value (cr, &r, CS_PALETTE_DIVERGING, limits[i],
                                      values[i][row * data_cols + col]);
              }

          double lw = MIN (L.slot_w[i], MAX (L.cols[i] * L.cell, 6.5 * L.type));
          cs_palette_draw_legend (cr, CS_PALETTE_DIVERGING, limits[i], NULL, c0 - lw / 2,
                                  L.legend_y, lw, 0.9 * L.type);
        }
      draw_operator (cr, &L, 0, "⊛");
      draw_operator (cr, &L, 1, "=");

      const CsWorkedConvCell *hover = current_cell (state, state->hover_row, state->hover_col);
      const CsWorkedConvCell *cell = current_cell (state, state->row, state->col);
      if (hover != NULL && hover != cell)
        draw_window (cr, &L, hover, CS_GRID_MARK_HOVER);
      if (cell != NULL)
        {
          draw_window (cr, &L, cell, CS_GRID_MARK_WINDOW);
          draw_weights (cr, &L, cell, limits[CS_CONV_GRID_INPUT]);
        }
      for (int i = 0; i < 3 && state->highlight != NULL; i++)
        if (g_str_equal (state->highlight, conv_highlights[i]))
          cs_view_draw_highlight (cr, L.grid_x[i], L.grid_y[i], L.cols[i] * L.cell,
                                  L.rows[i] * L.cell, L.type);
    }

  /* (the layout keeps room for two lines of products; what is not used
   * stays free at the bottom, so the grids do not move from cell to cell) */
  double y = L.text_y;
  cs_grid_draw_layout (cr, text.equation, L.text_x, y, CS_GRID_INK);
  y += layout_height (text.equation) + 0.5 * L.type;
  cs_grid_draw_layout (cr, text.formulas, L.text_x, y, CS_GRID_INK);
  y += layout_height (text.formulas) + 0.5 * L.type;
  cs_grid_draw_layout (cr, text.hint, L.text_x, y, CS_GRID_INK_DIM);

  conv_text_clear (&text);
  cairo_restore (cr);
}

/* ===========================================================================
 * The widget
 */

struct _CsConvView
{
  GtkWidget parent_instance;

  /* the example, and what the engine made of it */
  /* (on the heap: 32 KiB each, and an instance must stay under 64 KiB) */
  CsWorkedSpec *spec;
  CsWorkedSpec *conv_spec;  /* spec without the stages after the convolution */
  CsWorked *worked;
  char *error;
  CsStepper *stepper;   /* the current output cell, autoplay */
  int hover_row, hover_col;

  /* the cell being edited */
  CsConvGrid edit_grid;
  int edit_row, edit_col;

  /* children (the box owns them) */
  GtkWidget *box;
  GtkWidget *canvas;
  GtkWidget *stride_spin, *padding_spin, *dilation_spin;
  GtkWidget *bias_check, *bias_spin;
  GtkWidget *reset_button;
  GtkWidget *popover, *edit_title, *edit_entry, *edit_error;

  gboolean syncing;   /* setting the controls from the spec */
};

enum
{
  PROP_0,
  PROP_ROW,
  PROP_COL,
  PROP_PLAYING,
  N_PROPS,
};

enum
{
  SPEC_CHANGED,
  N_SIGNALS,
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void cs_conv_view_iface_init (CsViewInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (CsConvView, cs_conv_view, GTK_TYPE_WIDGET,
                               G_IMPLEMENT_INTERFACE (CS_TYPE_VIEW, cs_conv_view_iface_init))

void
cs_conv_view_get_state (CsConvView *self, CsConvViewState *state)
{
  g_return_if_fail (CS_IS_CONV_VIEW (self));
  g_return_if_fail (state != NULL);

  *state = (CsConvViewState) {
    .spec = self->conv_spec,
    .worked = self->worked,
    .error = self->error,
    .hover_row = self->hover_row,
    .hover_col = self->hover_col,
    .highlight = cs_view_get_highlight (CS_VIEW (self)),
  };
  cs_stepper_get_current (self->stepper, &state->row, &state->col);
}

static void
cs_conv_view_draw (CsView *view, cairo_t *cr, int width, int height)
{
  CsConvViewState state;

  cs_conv_view_get_state (CS_CONV_VIEW (view), &state);
  cs_conv_view_state_draw (&state, cr, width, height);
}

static void
cs_conv_view_iface_init (CsViewInterface *iface)
{
  iface->draw = cs_conv_view_draw;
  iface->highlights = conv_highlights;
}

static void
canvas_draw (GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer data)
{
  cs_conv_view_draw (CS_VIEW (data), cr, width, height);
}

static void
output_size (CsConvView *self, int *rows, int *cols)
{
  const CsWorkedStage *conv = self->worked != NULL
    ? cs_worked_find_stage (self->worked, CS_WORKED_STAGE_CONV) : NULL;

  *rows = conv != NULL ? conv->rows : 0;
  *cols = conv != NULL ? conv->cols : 0;
}

/* The accessible name carries the current cell and its sum. */
static void
update_accessible (CsConvView *self)
{
  CsConvViewState state;

  cs_conv_view_get_state (self, &state);
  g_autofree char *line = cs_conv_view_state_describe (&state);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->canvas),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, line,
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  _("The convolution of the worked example: input, kernel and "
                                    "output, with the products of the current output cell"),
                                  -1);
}

static void
changed (CsConvView *self)
{
  update_accessible (self);
  gtk_widget_queue_draw (self->canvas);
}

/* The view's "row", "col" and "playing" are the stepper's. */
static void
stepper_notify (CsStepper *stepper, GParamSpec *pspec, CsConvView *self)
{
  if (g_str_equal (pspec->name, "row"))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ROW]);
  else if (g_str_equal (pspec->name, "col"))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_COL]);
  else if (g_str_equal (pspec->name, "playing"))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PLAYING]);
}

/* Sets a spin button, widening its range for a spec set from outside. */
static void
set_spin (GtkWidget *spin, double value)
{
  double min, max;

  gtk_spin_button_get_range (GTK_SPIN_BUTTON (spin), &min, &max);
  if (value < min || value > max)
    gtk_spin_button_set_range (GTK_SPIN_BUTTON (spin), MIN (min, value), MAX (max, value));
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (spin), value);
}

static void
sync_controls (CsConvView *self)
{
  self->syncing = TRUE;
  set_spin (self->stride_spin, self->spec->stride[0]);
  set_spin (self->padding_spin, self->spec->padding[0]);
  set_spin (self->dilation_spin, self->spec->dilation[0]);
  gtk_check_button_set_active (GTK_CHECK_BUTTON (self->bias_check), self->spec->has_bias);
  set_spin (self->bias_spin, self->spec->bias);
  gtk_widget_set_sensitive (self->bias_spin, self->spec->has_bias);
  self->syncing = FALSE;
}

/* Runs the engine on the spec; keeps the current cell where it still is. */
static void
rebuild (CsConvView *self, gboolean emit)
{
  g_autoptr(GError) error = NULL;
  int rows, cols;

  g_clear_pointer (&self->worked, cs_worked_free);
  g_clear_pointer (&self->error, g_free);
  *self->conv_spec = *self->spec;
  self->conv_spec->relu = FALSE;
  self->conv_spec->pool = CS_WORKED_POOL_NONE;
  self->conv_spec->flatten = FALSE;
  self->worked = cs_worked_new (self->conv_spec, &error);
  if (self->worked == NULL)
    self->error = g_strdup (error->message);
  self->hover_row = self->hover_col = -1;

  /* the same cell if it is still there (the stepper clamps and notifies;
   * without an output it stops) */
  output_size (self, &rows, &cols);
  cs_stepper_set_size (self->stepper, rows, cols);
  changed (self);
  if (emit)
    g_signal_emit (self, signals[SPEC_CHANGED], 0);
}

static void
spin_changed (GtkSpinButton *spin, CsConvView *self)
{
  if (self->syncing)
    return;
  int v = gtk_spin_button_get_value_as_int (spin);
  if (GTK_WIDGET (spin) == self->stride_spin)
    self->spec->stride[0] = self->spec->stride[1] = v;
  else if (GTK_WIDGET (spin) == self->padding_spin)
    self->spec->padding[0] = self->spec->padding[1] = v;
  else if (GTK_WIDGET (spin) == self->dilation_spin)
    self->spec->dilation[0] = self->spec->dilation[1] = v;
  else
    self->spec->bias = (float) gtk_spin_button_get_value (spin);
  rebuild (self, TRUE);
}

static void
bias_toggled (GtkCheckButton *check, CsConvView *self)
{
  gtk_widget_set_sensitive (self->bias_spin, gtk_check_button_get_active (check));
  if (self->syncing)
    return;
  self->spec->has_bias = gtk_check_button_get_active (check);
  self->spec->bias = (float) gtk_spin_button_get_value (GTK_SPIN_BUTTON (self->bias_spin));
  rebuild (self, TRUE);
}

static void
reset_clicked (GtkButton *button, CsConvView *self)
{
  CsWorkedSpec spec;

  cs_worked_spec_init_default (&spec);
  cs_conv_view_set_spec (self, &spec);
  cs_stepper_move_to (self->stepper, 0, 0);
}

/* ---------------------------------------------------------------------------
 * Autoplay
 */

void
cs_conv_view_set_playing (CsConvView *self, gboolean playing)
{
  g_return_if_fail (CS_IS_CONV_VIEW (self));
  cs_stepper_set_playing (self->stepper, playing);
}

gboolean
cs_conv_view_get_playing (CsConvView *self)
{
  g_return_val_if_fail (CS_IS_CONV_VIEW (self), FALSE);
  return cs_stepper_get_playing (self->stepper);
}

/* ---------------------------------------------------------------------------
 * Editing a cell
 */

static float *
edit_target (CsConvView *self)
{
  if (self->edit_grid == CS_CONV_GRID_INPUT)
    return &self->spec->input[self->edit_row * self->spec->W + self->edit_col];
  return &self->spec->kernel[self->edit_row * self->spec->kw + self->edit_col];
}

static void
show_edit_error (CsConvView *self, const char *message)
{
  gtk_label_set_text (GTK_LABEL (self->edit_error), message != NULL ? message : "");
  gtk_widget_set_visible (self->edit_error, message != NULL);
  if (gtk_widget_get_visible (self->popover))
    gtk_popover_present (GTK_POPOVER (self->popover));  /* its size changed */
  if (message != NULL)
    gtk_widget_add_css_class (self->edit_entry, "error");
  else
    gtk_widget_remove_css_class (self->edit_entry, "error");
  gtk_accessible_update_state (GTK_ACCESSIBLE (self->edit_entry),
                               GTK_ACCESSIBLE_STATE_INVALID,
                               message != NULL ? GTK_ACCESSIBLE_INVALID_TRUE
                                               : GTK_ACCESSIBLE_INVALID_FALSE,
                               -1);
}

static void
open_editor (CsConvView *self, CsConvGrid grid, int row, int col)
{
  CsConvViewState state;
  cairo_rectangle_t r;

  self->edit_grid = grid;
  self->edit_row = row;
  self->edit_col = col;

  cs_conv_view_get_state (self, &state);
  if (!cs_conv_view_state_cell_rect (&state, gtk_widget_get_width (self->canvas),
                                     gtk_widget_get_height (self->canvas), grid, row, col, &r))
    return;

  g_autofree char *title = grid == CS_CONV_GRID_INPUT
    /* TRANSLATORS: the title of the editor of one input cell, [row,column] */
    ? g_strdup_printf (_("Input x[%d,%d]"), row, col)
    : g_strdup_printf (_("Kernel w[%d,%d]"), row, col);
  g_autofree char *value = cs_worked_text_number (*edit_target (self));

  gtk_label_set_text (GTK_LABEL (self->edit_title), title);
  gtk_editable_set_text (GTK_EDITABLE (self->edit_entry), value);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->edit_entry),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, title, -1);
  show_edit_error (self, NULL);
  /* the popover hangs on the view (which presents it when allocated) */
  double x, y;
  if (!gtk_widget_translate_coordinates (self->canvas, GTK_WIDGET (self), r.x, r.y, &x, &y))
    x = r.x, y = r.y;
  gtk_popover_set_pointing_to (GTK_POPOVER (self->popover),
                               &(GdkRectangle) { (int) x, (int) y, (int) r.width,
                                                 (int) r.height });
  gtk_popover_popup (GTK_POPOVER (self->popover));
  gtk_widget_grab_focus (self->edit_entry);
  gtk_editable_select_region (GTK_EDITABLE (self->edit_entry), 0, -1);
}

static void
edit_activate (GtkEntry *entry, CsConvView *self)
{
  g_autoptr(GError) error = NULL;
  double v;

  if (!cs_worked_text_parse_value (gtk_editable_get_text (GTK_EDITABLE (entry)), &v, &error))
    {
      show_edit_error (self, error->message);
      return;
    }
  show_edit_error (self, NULL);
  gtk_popover_popdown (GTK_POPOVER (self->popover));
  if (*edit_target (self) != (float) v)
    {
      *edit_target (self) = (float) v;
      rebuild (self, TRUE);
    }
  gtk_widget_grab_focus (self->canvas);
}

static void
edit_changed (GtkEditable *editable, CsConvView *self)
{
  show_edit_error (self, NULL);
}

/* ---------------------------------------------------------------------------
 * Keys and pointer
 */

static gboolean
key_pressed (GtkEventControllerKey *controller, guint keyval, guint keycode,
             GdkModifierType modifiers, CsConvView *self)
{
  return cs_stepper_handle_key (self->stepper, keyval, modifiers);
}

static gboolean
canvas_hit (CsConvView *self, double x, double y, CsConvGrid *grid, int *row, int *col)
{
  CsConvViewState state;

  cs_conv_view_get_state (self, &state);
  return cs_conv_view_state_hit (&state, gtk_widget_get_width (self->canvas),
                                 gtk_widget_get_height (self->canvas), x, y, grid, row, col);
}

static void
set_hover (CsConvView *self, int row, int col)
{
  if (row == self->hover_row && col == self->hover_col)
    return;
  self->hover_row = row;
  self->hover_col = col;
  gtk_widget_queue_draw (self->canvas);
}

static void
motion (GtkEventControllerMotion *controller, double x, double y, CsConvView *self)
{
  CsConvGrid grid;
  int row, col;

  if (canvas_hit (self, x, y, &grid, &row, &col))
    {
      gtk_widget_set_cursor_from_name (self->canvas, "pointer");
      if (grid == CS_CONV_GRID_OUTPUT)
        set_hover (self, row, col);
      else
        set_hover (self, -1, -1);
    }
  else
    {
      gtk_widget_set_cursor (self->canvas, NULL);
      set_hover (self, -1, -1);
    }
}

static void
leave (GtkEventControllerMotion *controller, CsConvView *self)
{
  set_hover (self, -1, -1);
}

static void
pressed (GtkGestureClick *gesture, int n_press, double x, double y, CsConvView *self)
{
  CsConvGrid grid;
  int row, col;

  gtk_widget_grab_focus (self->canvas);
  if (!canvas_hit (self, x, y, &grid, &row, &col))
    return;
  if (grid == CS_CONV_GRID_OUTPUT)
    cs_stepper_move_to (self->stepper, row, col);
  else
    open_editor (self, grid, row, col);
}

/* ---------------------------------------------------------------------------
 * Building the widget
 */

static GtkWidget *
labelled_spin (GtkWidget *box, const char *mnemonic, double min, double max, double step_by,
               int digits, const char *tooltip)
{
  GtkWidget *label = gtk_label_new_with_mnemonic (mnemonic);
  GtkWidget *spin = gtk_spin_button_new_with_range (min, max, step_by);

  gtk_spin_button_set_digits (GTK_SPIN_BUTTON (spin), digits);
  gtk_spin_button_set_numeric (GTK_SPIN_BUTTON (spin), TRUE);
  gtk_label_set_mnemonic_widget (GTK_LABEL (label), spin);
  /* named by its label (the mnemonic makes it the spin button's label) */
  gtk_widget_set_tooltip_text (spin, tooltip);
  gtk_accessible_update_property (GTK_ACCESSIBLE (spin), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  tooltip, -1);
  gtk_widget_set_margin_start (label, 6);
  gtk_box_append (GTK_BOX (box), label);
  gtk_box_append (GTK_BOX (box), spin);
  return spin;
}

static void
build_controls (CsConvView *self)
{
  GtkWidget *bar = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);

  gtk_widget_add_css_class (bar, "toolbar");
  gtk_accessible_update_property (GTK_ACCESSIBLE (bar), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Convolution controls"), -1);

  cs_stepper_append_buttons (self->stepper, GTK_BOX (bar));

  self->stride_spin = labelled_spin (bar, _("_Stride"), 1, 8, 1, 0,
                                     _("How many cells the window moves at each step"));
  self->padding_spin = labelled_spin (bar, _("_Padding"), 0, 8, 1, 0,
                                      _("Rings of zeros around the input"));
  self->dilation_spin = labelled_spin (bar, _("_Dilation"), 1, 8, 1, 0,
                                       _("The spacing between the cells the kernel reads"));

  self->bias_check = gtk_check_button_new_with_mnemonic (_("_Bias"));
  gtk_widget_set_margin_start (self->bias_check, 6);
  gtk_widget_set_tooltip_text (self->bias_check, _("Add a bias to every output cell"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->bias_check),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Use a bias"), -1);
  gtk_box_append (GTK_BOX (bar), self->bias_check);
  self->bias_spin = gtk_spin_button_new_with_range (-1000, 1000, 0.5);
  gtk_spin_button_set_digits (GTK_SPIN_BUTTON (self->bias_spin), 2);
  gtk_widget_set_tooltip_text (self->bias_spin, _("The bias added to every output cell"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->bias_spin),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Bias value"), -1);
  gtk_box_append (GTK_BOX (bar), self->bias_spin);

  self->reset_button = gtk_button_new_with_label (_("Reset"));
  gtk_widget_set_tooltip_text (self->reset_button, _("Back to the worked example"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->reset_button),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  _("Back to the worked example"), -1);
  gtk_widget_set_hexpand (self->reset_button, TRUE);
  gtk_widget_set_halign (self->reset_button, GTK_ALIGN_END);
  gtk_box_append (GTK_BOX (bar), self->reset_button);

  gtk_box_append (GTK_BOX (self->box), bar);
}

static void
build_editor (CsConvView *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *hint = gtk_label_new (_("Enter applies, Escape cancels"));

  self->popover = gtk_popover_new ();
  gtk_widget_set_parent (self->popover, GTK_WIDGET (self));
  self->edit_title = gtk_label_new (NULL);
  gtk_widget_add_css_class (self->edit_title, "heading");
  gtk_label_set_xalign (GTK_LABEL (self->edit_title), 0);
  self->edit_entry = gtk_entry_new ();
  gtk_editable_set_width_chars (GTK_EDITABLE (self->edit_entry), 10);
  gtk_entry_set_input_purpose (GTK_ENTRY (self->edit_entry), GTK_INPUT_PURPOSE_NUMBER);
  gtk_accessible_update_relation (GTK_ACCESSIBLE (self->edit_entry),
                                  GTK_ACCESSIBLE_RELATION_LABELLED_BY, self->edit_title, NULL, -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->edit_entry),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Cell value"), -1);
  self->edit_error = gtk_label_new (NULL);
  gtk_widget_add_css_class (self->edit_error, "error");
  gtk_label_set_wrap (GTK_LABEL (self->edit_error), TRUE);
  gtk_label_set_max_width_chars (GTK_LABEL (self->edit_error), 28);
  gtk_label_set_xalign (GTK_LABEL (self->edit_error), 0);
  gtk_widget_set_visible (self->edit_error, FALSE);
  gtk_accessible_update_relation (GTK_ACCESSIBLE (self->edit_entry),
                                  GTK_ACCESSIBLE_RELATION_DESCRIBED_BY, self->edit_error, NULL,
                                  -1);
  gtk_widget_add_css_class (hint, "dim-label");
  gtk_label_set_xalign (GTK_LABEL (hint), 0);

  gtk_box_append (GTK_BOX (box), self->edit_title);
  gtk_box_append (GTK_BOX (box), self->edit_entry);
  gtk_box_append (GTK_BOX (box), self->edit_error);
  gtk_box_append (GTK_BOX (box), hint);
  gtk_popover_set_child (GTK_POPOVER (self->popover), box);

  g_signal_connect (self->edit_entry, "activate", G_CALLBACK (edit_activate), self);
  g_signal_connect (self->edit_entry, "changed", G_CALLBACK (edit_changed), self);
}

/* The box fills the view; the popover is placed after it, as GtkMenuButton
 * does, so that it follows the cell when the window changes size. */
static void
cs_conv_view_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum,
                      int *natural, int *minimum_baseline, int *natural_baseline)
{
  gtk_widget_measure (CS_CONV_VIEW (widget)->box, orientation, for_size, minimum, natural,
                      minimum_baseline, natural_baseline);
}

static void
cs_conv_view_size_allocate (GtkWidget *widget, int width, int height, int baseline)
{
  CsConvView *self = CS_CONV_VIEW (widget);

  gtk_widget_allocate (self->box, width, height, baseline, NULL);
  if (self->popover != NULL)
    gtk_popover_present (GTK_POPOVER (self->popover));
}

static void
cs_conv_view_unmap (GtkWidget *widget)
{
  cs_conv_view_set_playing (CS_CONV_VIEW (widget), FALSE);
  GTK_WIDGET_CLASS (cs_conv_view_parent_class)->unmap (widget);
}

static void
cs_conv_view_dispose (GObject *object)
{
  CsConvView *self = CS_CONV_VIEW (object);

  /* the stepper first: its timer and buttons go with it */
  if (self->stepper != NULL)
    g_signal_handlers_disconnect_by_data (self->stepper, self);
  g_clear_object (&self->stepper);
  if (self->popover != NULL)
    {
      gtk_widget_unparent (self->popover);
      self->popover = NULL;
    }
  g_clear_pointer (&self->box, gtk_widget_unparent);
  G_OBJECT_CLASS (cs_conv_view_parent_class)->dispose (object);
}

static void
cs_conv_view_finalize (GObject *object)
{
  CsConvView *self = CS_CONV_VIEW (object);

  g_clear_pointer (&self->worked, cs_worked_free);
  g_clear_pointer (&self->error, g_free);
  g_clear_pointer (&self->spec, g_free);
  g_clear_pointer (&self->conv_spec, g_free);
  G_OBJECT_CLASS (cs_conv_view_parent_class)->finalize (object);
}

static void
cs_conv_view_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CsConvView *self = CS_CONV_VIEW (object);

  switch (prop_id)
    {
    case PROP_ROW:
    case PROP_COL:
      g_object_get_property (G_OBJECT (self->stepper), pspec->name, value);
      break;
    case PROP_PLAYING:
      g_value_set_boolean (value, cs_conv_view_get_playing (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cs_conv_view_set_property (GObject *object, guint prop_id, const GValue *value,
                           GParamSpec *pspec)
{
  CsConvView *self = CS_CONV_VIEW (object);

  switch (prop_id)
    {
    case PROP_ROW:
    case PROP_COL:
      g_object_set_property (G_OBJECT (self->stepper), pspec->name, value);
      break;
    case PROP_PLAYING:
      cs_conv_view_set_playing (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cs_conv_view_class_init (CsConvViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = cs_conv_view_dispose;
  object_class->finalize = cs_conv_view_finalize;
  object_class->get_property = cs_conv_view_get_property;
  object_class->set_property = cs_conv_view_set_property;
  widget_class->unmap = cs_conv_view_unmap;

  properties[PROP_ROW] = g_param_spec_int ("row", NULL, NULL, 0, G_MAXINT, 0,
                                           G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY
                                           | G_PARAM_STATIC_STRINGS);
  properties[PROP_COL] = g_param_spec_int ("col", NULL, NULL, 0, G_MAXINT, 0,
                                           G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY
                                           | G_PARAM_STATIC_STRINGS);
  properties[PROP_PLAYING] = g_param_spec_boolean ("playing", NULL, NULL, FALSE,
                                                   G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY
                                                   | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * CsConvView::spec-changed:
   *
   * The example was edited (a cell, stride, padding, dilation, bias or a
   * reset) or set; cs_conv_view_get_spec () has the new one.
   */
  signals[SPEC_CHANGED] = g_signal_new ("spec-changed", G_TYPE_FROM_CLASS (klass),
                                        G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                        G_TYPE_NONE, 0);

  widget_class->measure = cs_conv_view_measure;
  widget_class->size_allocate = cs_conv_view_size_allocate;
  gtk_widget_class_set_css_name (widget_class, "convview");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
cs_conv_view_init (CsConvView *self)
{
  GtkEventController *key, *motion_controller;
  GtkGesture *click;

  self->spec = g_new (CsWorkedSpec, 1);
  self->conv_spec = g_new (CsWorkedSpec, 1);
  cs_worked_spec_init_default (self->spec);
  self->hover_row = self->hover_col = -1;

  self->stepper = cs_stepper_new (PLAY_INTERVAL_MS, &(CsStepperText) {
    .prev_name = _("Previous output cell"), .prev_tooltip = _("Previous output cell (←)"),
    .next_name = _("Next output cell"), .next_tooltip = _("Next output cell (→)"),
    .play_name = _("Play: step through the output cells"),
    .play_tooltip = _("Step through the output cells"),
  });
  g_signal_connect (self->stepper, "notify", G_CALLBACK (stepper_notify), self);
  g_signal_connect_swapped (self->stepper, "moved", G_CALLBACK (changed), self);

  self->box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_widget_set_parent (self->box, GTK_WIDGET (self));
  build_controls (self);
  g_signal_connect (self->stride_spin, "value-changed", G_CALLBACK (spin_changed), self);
  g_signal_connect (self->padding_spin, "value-changed", G_CALLBACK (spin_changed), self);
  g_signal_connect (self->dilation_spin, "value-changed", G_CALLBACK (spin_changed), self);
  g_signal_connect (self->bias_spin, "value-changed", G_CALLBACK (spin_changed), self);
  g_signal_connect (self->bias_check, "toggled", G_CALLBACK (bias_toggled), self);
  g_signal_connect (self->reset_button, "clicked", G_CALLBACK (reset_clicked), self);

  self->canvas = gtk_drawing_area_new ();
  gtk_widget_set_hexpand (self->canvas, TRUE);
  gtk_widget_set_vexpand (self->canvas, TRUE);
  gtk_widget_set_focusable (self->canvas, TRUE);
  gtk_drawing_area_set_content_width (GTK_DRAWING_AREA (self->canvas), 560);
  gtk_drawing_area_set_content_height (GTK_DRAWING_AREA (self->canvas), 400);
  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (self->canvas), canvas_draw, self, NULL);
  gtk_box_append (GTK_BOX (self->box), self->canvas);

  key = gtk_event_controller_key_new ();
  g_signal_connect (key, "key-pressed", G_CALLBACK (key_pressed), self);
  gtk_widget_add_controller (self->canvas, key);
  motion_controller = gtk_event_controller_motion_new ();
  g_signal_connect (motion_controller, "motion", G_CALLBACK (motion), self);
  g_signal_connect (motion_controller, "leave", G_CALLBACK (leave), self);
  gtk_widget_add_controller (self->canvas, motion_controller);
  click = gtk_gesture_click_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (click), GDK_BUTTON_PRIMARY);
  g_signal_connect (click, "pressed", G_CALLBACK (pressed), self);
  gtk_widget_add_controller (self->canvas, GTK_EVENT_CONTROLLER (click));

  build_editor (self);
  sync_controls (self);
  rebuild (self, FALSE);
}

GtkWidget *
cs_conv_view_new (void)
{
  return g_object_new (CS_TYPE_CONV_VIEW, NULL);
}

const CsWorkedSpec *
cs_conv_view_get_spec (CsConvView *self)
{
  g_return_val_if_fail (CS_IS_CONV_VIEW (self), NULL);
  return self->spec;
}

void
cs_conv_view_set_spec (CsConvView *self, const CsWorkedSpec *spec)
{
  g_return_if_fail (CS_IS_CONV_VIEW (self));
  g_return_if_fail (spec != NULL);

  if (memcmp (self->spec, spec, sizeof *spec) == 0)
    return;
  *self->spec = *spec;
  sync_controls (self);
  rebuild (self, TRUE);
}

CsWorked *
cs_conv_view_get_worked (CsConvView *self)
{
  g_return_val_if_fail (CS_IS_CONV_VIEW (self), NULL);
  return self->worked;
}

void
cs_conv_view_set_current (CsConvView *self, int row, int col)
{
  g_return_if_fail (CS_IS_CONV_VIEW (self));
  cs_stepper_move_to (self->stepper, row, col);
}

void
cs_conv_view_get_current (CsConvView *self, int *row, int *col)
{
  g_return_if_fail (CS_IS_CONV_VIEW (self));
  cs_stepper_get_current (self->stepper, row, col);
}
