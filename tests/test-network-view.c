/* test-network-view.c — the Network view's picture, pixel by pixel
 *
 * The presets, initialised with a seed, see a bundled test digit; the view
 * draws their snapshot into image surfaces and the tests read the pixels
 * back: the most active hidden unit has the palette's colour of the maximum,
 * the input grid shows the digit, a clicked unit's 28×28 weight picture has
 * the colour of each weight, a convolutional network has one tile per
 * channel whose pixels follow the activations, and a clicked map shows the
 * kernels that made it. The expected values come from the model itself,
 * not from the snapshot the view reads. With a display (Xvfb) the widget is
 * checked too: its controls' accessible names, a click, the keys.
 */
#include "app/cs-snapshot.h"
#include "app/views/cs-network-view.h"

#include "core/dataset.h"
#include "core/loss.h"
#include "core/model.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <glib/gstdio.h>
#include <math.h>

#define SEED 7
#define EXAMPLE 3
#define W 1280
#define H 800

typedef struct
{
  CsModel *model;
  CsSnapshot *snap;
  float x[784];
  gint32 label;
  CsNetworkViewState state;
  cairo_surface_t *surface;
} Fixture;

static void
forward_digit (Fixture *f, guint32 example)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CsDataset) digits = cs_dataset_load_named ("digits", "test", &error);
  g_assert_no_error (error);
  cs_dataset_fill_batch (digits, &example, 1, f->x, &f->label);
  CsTensor x = cs_tensor_view (f->x, 4, (gint64[]) { 1, 1, 28, 28 });
  cs_model_forward (f->model, &x, FALSE);
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  f->model = cs_model_new_preset (data, &error);
  g_assert_no_error (error);
  cs_model_init (f->model, SEED);
  g_assert_true (cs_model_reserve (f->model, 1, &error));
  forward_digit (f, EXAMPLE);
  f->snap = cs_snapshot_new (f->model, 0, CS_SNAPSHOT_FORWARD);
  cs_snapshot_set_label (f->snap, f->label);
  cs_network_view_state_init (&f->state);
  f->state.snapshot = f->snap;
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->surface, cairo_surface_destroy);
  cs_snapshot_unref (f->snap);
  cs_model_free (f->model);
}

static void
draw (Fixture *f, int width, int height)
{
  g_clear_pointer (&f->surface, cairo_surface_destroy);
  f->surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);
  cairo_t *cr = cairo_create (f->surface);
  cs_network_view_state_draw (&f->state, cr, width, height);
  g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);
  cairo_destroy (cr);
  cairo_surface_flush (f->surface);
  if (g_getenv ("CS_TEST_SAVE_PNG") != NULL)
    {
      g_autofree char *name = g_strdelimit (g_strdup_printf ("%s.png", g_test_get_path ()), "/", '_');
      cairo_surface_write_to_png (f->surface, name);
    }
}

/* The pixel at (x, y): 0xRRGGBB. */
static guint32
pixel (Fixture *f, int x, int y)
{
  g_assert_cmpint (x, >=, 0);
  g_assert_cmpint (y, >=, 0);
  g_assert_cmpint (x, <, cairo_image_surface_get_width (f->surface));
  g_assert_cmpint (y, <, cairo_image_surface_get_height (f->surface));
  const guint8 *data = cairo_image_surface_get_data (f->surface);
  int stride = cairo_image_surface_get_stride (f->surface);
  return *(const guint32 *) (data + (gsize) y * stride + (gsize) x * 4) & 0xffffff;
}

static guint32
pixel_at_centre (Fixture *f, const graphene_rect_t *r)
{
  return pixel (f, (int) floor (r->origin.x + r->size.width / 2),
                (int) floor (r->origin.y + r->size.height / 2));
}

static guint32
pack (CsRgb c)
{
  return ((guint32) lround (c.r * 255) << 16) | ((guint32) lround (c.g * 255) << 8)
         | (guint32) lround (c.b * 255);
}

static void
assert_colour (guint32 got, CsRgb want, const char *what)
{
  guint32 w = pack (want);
  for (int shift = 0; shift <= 16; shift += 8)
    {
      int a = (got >> shift) & 0xff, b = (w >> shift) & 0xff;
      if (ABS (a - b) > 2)
        g_error ("%s: drawn #%06x, expected #%06x", what, got, w);
    }
}

static double
luminance (guint32 p)
{
  return (0.2126 * ((p >> 16) & 0xff) + 0.7152 * ((p >> 8) & 0xff) + 0.0722 * (p & 0xff)) / 255;
}

/* The model's own numbers, for the expected colours. */
static const float *
model_activation (Fixture *f, guint i)
{
  return cs_model_get_activation (f->model, i).data;
}

static const CsTensor *
model_param (Fixture *f, const char *name)
{
  const CsModelEntry *e = cs_model_find_entry (f->model, name);
  g_assert_nonnull (e);
  return e->param->value;
}

static double
largest_abs (const float *v, gsize n)
{
  double m = 0.0;
  for (gsize i = 0; i < n; i++)
    m = MAX (m, fabs (v[i]));
  return m;
}

/* ---------------------------------------------------------------------------
 * The MLP: acts 0 input, 1 flatten, 2 linear, 3 ReLU (the hidden column), 4 logits
 */

#define HIDDEN 3

/* The most active hidden unit has the sequential palette's darkest colour;
 * a unit that is off, white. */
static void
test_mlp_hidden_max (Fixture *f, gconstpointer data)
{
  const float *h = model_activation (f, HIDDEN);
  guint best = 0, off = G_MAXUINT;
  for (guint k = 0; k < 256; k++)
    {
      if (h[k] > h[best])
        best = k;
      if (h[k] == 0.0f && off == G_MAXUINT)
        off = k;
    }
  g_assert_cmpfloat (h[best], >, 0.0f);
  g_assert_cmpuint (off, !=, G_MAXUINT);

  CsPaletteKind kind;
  double limit;
  cs_network_view_state_get_scale (&f->state, HIDDEN, &kind, &limit);
  g_assert_cmpint (kind, ==, CS_PALETTE_SEQUENTIAL);
  g_assert_cmpfloat (limit, ==, h[best]);

  for (int selected = 0; selected < 2; selected++)
    {
      if (selected)
        cs_network_view_state_select_default (&f->state);
      draw (f, W, H);
      graphene_rect_t r;
      g_assert_true (cs_network_view_state_get_item_rect (&f->state, W, H, HIDDEN, best, &r));
      g_assert_cmpfloat (r.size.width, >=, 8);
      assert_colour (pixel_at_centre (f, &r), cs_palette_color (CS_PALETTE_SEQUENTIAL, 1.0),
                     "the most active unit");
      g_assert_true (cs_network_view_state_get_item_rect (&f->state, W, H, HIDDEN, off, &r));
      assert_colour (pixel_at_centre (f, &r), cs_palette_color (CS_PALETTE_SEQUENTIAL, 0.0),
                     "a unit that is off");
      /* every unit, its own colour */
      for (guint k = 0; k < 256; k++)
        {
          g_assert_true (cs_network_view_state_get_item_rect (&f->state, W, H, HIDDEN, k, &r));
          assert_colour (pixel_at_centre (f, &r),
                         cs_palette_color (CS_PALETTE_SEQUENTIAL, h[k] / h[best]), "a unit");
        }
    }
  /* 256 units on a 16 × 16 grid */
  graphene_rect_t r0, r15, r16;
  cs_network_view_state_get_item_rect (&f->state, W, H, HIDDEN, 0, &r0);
  cs_network_view_state_get_item_rect (&f->state, W, H, HIDDEN, 15, &r15);
  cs_network_view_state_get_item_rect (&f->state, W, H, HIDDEN, 16, &r16);
  g_assert_cmpfloat (r15.origin.y, ==, r0.origin.y);
  g_assert_cmpfloat (r15.origin.x, >, r0.origin.x + 14 * r0.size.width);
  g_assert_cmpfloat (r16.origin.x, ==, r0.origin.x);
  g_assert_cmpfloat (r16.origin.y, >, r0.origin.y);
  g_assert_false (cs_network_view_state_get_item_rect (&f->state, W, H, HIDDEN, 256, &r0));
}

/* The input grid shows the digit: ink dark, background white. */
static void
test_mlp_input_digit (Fixture *f, gconstpointer data)
{
  cs_network_view_state_select_default (&f->state);
  draw (f, W, H);
  graphene_rect_t grid;
  g_assert_true (cs_network_view_state_get_item_rect (&f->state, W, H, 0, 0, &grid));
  g_assert_cmpfloat (grid.size.width, ==, grid.size.height);
  double cell = grid.size.width / 28;
  g_assert_cmpfloat (cell, >=, 6);
  int ink = 0, background = 0;
  for (int r = 0; r < 28; r++)
    for (int c = 0; c < 28; c++)
      {
        float v = f->x[r * 28 + c];
        guint32 p = pixel (f, (int) (grid.origin.x + (c + 0.5) * cell),
                           (int) (grid.origin.y + (r + 0.5) * cell));
        /* the cell has the colour of its pixel value (the input's largest is 1) */
        assert_colour (p, cs_palette_color (CS_PALETTE_SEQUENTIAL, v), "an input pixel");
        if (v >= 0.75f)
          {
            g_assert_cmpfloat (luminance (p), <, 0.4);
            ink++;
          }
        else if (v == 0.0f)
          {
            g_assert_cmphex (p, ==, 0xffffff);
            background++;
          }
      }
  g_assert_cmpint (ink, >, 25);
  g_assert_cmpint (background, >, 400);
}

/* Clicking unit k selects it; its weight picture's cell (r, c) has the
 * diverging colour of W1[k, r·28 + c], scaled to the unit's largest |w|. */
static void
test_mlp_click_unit (Fixture *f, gconstpointer data)
{
  const guint k = 37;
  graphene_rect_t r;
  g_assert_true (cs_network_view_state_get_item_rect (&f->state, W, H, HIDDEN, k, &r));
  guint act, index;
  g_assert_true (cs_network_view_state_hit (&f->state, W, H, r.origin.x + r.size.width / 2,
                                            r.origin.y + r.size.height / 2, &act, &index));
  g_assert_cmpuint (act, ==, HIDDEN);
  g_assert_cmpuint (index, ==, k);
  g_assert_true (cs_network_view_state_select (&f->state, (int) act, (int) index));
  g_assert_false (cs_network_view_state_select (&f->state, (int) act, (int) index));
  draw (f, W, H);

  /* the selection is outlined in orange, around the cell */
  guint32 edge = pixel (f, (int) r.origin.x - 2, (int) (r.origin.y + r.size.height / 2));
  g_assert_cmpuint ((edge >> 16) & 0xff, >, 200);
  g_assert_cmpuint (edge & 0xff, <, 60);

  const CsTensor *w1 = model_param (f, "1.weight");   /* (256, 784) */
  const float *row = w1->data + k * 784;
  double limit = largest_abs (row, 784);
  for (guint rr = 0; rr < 28; rr++)
    for (guint c = 0; c < 28; c++)
      {
        graphene_rect_t cell;
        g_assert_true (cs_network_view_state_get_weight_cell_rect (&f->state, W, H, 0, rr, c, &cell));
        g_assert_cmpfloat (cell.size.width, >=, 5);
        assert_colour (pixel_at_centre (f, &cell),
                       cs_palette_color (CS_PALETTE_DIVERGING, row[rr * 28 + c] / limit),
                       "a weight of the selected unit");
      }
  graphene_rect_t none;
  g_assert_false (cs_network_view_state_get_weight_cell_rect (&f->state, W, H, 0, 28, 0, &none));

  g_autofree char *text = cs_network_view_state_describe_selection (&f->state);
  g_assert_nonnull (strstr (text, "Hidden unit 37 of 256"));

  /* an output unit: its 256 weights laid out as the hidden grid */
  graphene_rect_t out;
  g_assert_true (cs_network_view_state_get_item_rect (&f->state, W, H, 4, 7, &out));
  g_assert_true (cs_network_view_state_hit (&f->state, W, H, out.origin.x + out.size.width / 2,
                                            out.origin.y + out.size.height / 2, &act, &index));
  g_assert_cmpuint (act, ==, 4);
  g_assert_cmpuint (index, ==, 7);
  cs_network_view_state_select (&f->state, (int) act, (int) index);
  draw (f, W, H);
  const float *w2 = model_param (f, "3.weight")->data + 7 * 256;
  limit = largest_abs (w2, 256);
  for (guint j = 0; j < 256; j++)
    {
      graphene_rect_t cell;
      g_assert_true (cs_network_view_state_get_weight_cell_rect (&f->state, W, H, 0, j / 16, j % 16, &cell));
      assert_colour (pixel_at_centre (f, &cell), cs_palette_color (CS_PALETTE_DIVERGING, w2[j] / limit),
                     "a weight of output 7");
    }
}

/* Nothing to select in the input, nor outside the columns. */
static void
test_mlp_hit (Fixture *f, gconstpointer data)
{
  guint act, index;
  graphene_rect_t grid;
  cs_network_view_state_get_item_rect (&f->state, W, H, 0, 0, &grid);
  g_assert_false (cs_network_view_state_hit (&f->state, W, H, grid.origin.x + 5, grid.origin.y + 5,
                                             &act, &index));
  g_assert_false (cs_network_view_state_hit (&f->state, W, H, 2, 2, &act, &index));
  g_assert_false (cs_network_view_state_hit (&f->state, W, H, W - 2, H - 2, &act, &index));
}

/* The arrow keys walk the grid, and from its right edge into the outputs. */
static void
test_mlp_keys (Fixture *f, gconstpointer data)
{
  /* nothing selected: the first move selects the most active unit */
  g_assert_true (cs_network_view_state_move_selection (&f->state, W, H, CS_NETWORK_MOVE_RIGHT));
  g_assert_cmpint (f->state.selected_act, ==, HIDDEN);

  cs_network_view_state_select (&f->state, HIDDEN, 17);
  g_assert_true (cs_network_view_state_move_selection (&f->state, W, H, CS_NETWORK_MOVE_RIGHT));
  g_assert_cmpint (f->state.selected_index, ==, 18);
  g_assert_true (cs_network_view_state_move_selection (&f->state, W, H, CS_NETWORK_MOVE_DOWN));
  g_assert_cmpint (f->state.selected_index, ==, 34);
  g_assert_true (cs_network_view_state_move_selection (&f->state, W, H, CS_NETWORK_MOVE_UP));
  g_assert_true (cs_network_view_state_move_selection (&f->state, W, H, CS_NETWORK_MOVE_LEFT));
  g_assert_cmpint (f->state.selected_index, ==, 17);
  cs_network_view_state_select (&f->state, HIDDEN, 0);
  g_assert_false (cs_network_view_state_move_selection (&f->state, W, H, CS_NETWORK_MOVE_UP));
  g_assert_false (cs_network_view_state_move_selection (&f->state, W, H, CS_NETWORK_MOVE_LEFT));
  cs_network_view_state_select (&f->state, HIDDEN, 15);
  g_assert_true (cs_network_view_state_move_selection (&f->state, W, H, CS_NETWORK_MOVE_RIGHT));
  g_assert_cmpint (f->state.selected_act, ==, 4);
  g_assert_cmpint (f->state.selected_index, ==, 0);
}

/* A projector-sized window: bigger cells. */
static void
test_mlp_scales (Fixture *f, gconstpointer data)
{
  graphene_rect_t small, big, tiny;
  g_assert_true (cs_network_view_state_get_item_rect (&f->state, 1280, 800, HIDDEN, 0, &small));
  g_assert_true (cs_network_view_state_get_item_rect (&f->state, 1920, 1080, HIDDEN, 0, &big));
  g_assert_true (cs_network_view_state_get_item_rect (&f->state, 800, 560, HIDDEN, 0, &tiny));
  g_assert_cmpfloat (big.size.width, >, small.size.width * 1.2);
  g_assert_cmpfloat (small.size.width, >, tiny.size.width);
  g_assert_cmpfloat (tiny.size.width, >=, 4);
  /* and every column inside the picture */
  for (guint act = 0; act <= 4; act++)
    {
      graphene_rect_t c;
      if (!cs_network_view_state_get_column_rect (&f->state, 800, 560, act, &c))
        continue;
      g_assert_cmpfloat (c.origin.x, >=, 0);
      g_assert_cmpfloat (c.origin.x + c.size.width, <=, 800);
      g_assert_cmpfloat (c.origin.y + c.size.height, <=, 560);
    }
}

/* Gradients: only when the snapshot has them, in the diverging palette. */
static void
test_mlp_gradients (Fixture *f, gconstpointer data)
{
  f->state.show = CS_NETWORK_SHOW_GRADIENTS;
  g_assert_false (cs_network_view_state_showing_gradients (&f->state));
  g_assert_true (cs_network_view_state_get_values (&f->state, HIDDEN)
                 == cs_snapshot_get_activation (f->snap, HIDDEN));

  /* backward: cross-entropy against the label */
  float probs[10];
  CsTensor pt = cs_tensor_view (probs, 2, (gint64[]) { 1, 10 });
  CsTensor dout = cs_model_get_output_grad (f->model);
  CsTensor logits = cs_model_get_activation (f->model, 4);
  cs_model_zero_grad (f->model);
  cs_loss_cross_entropy (cs_model_get_backend (f->model), &dout, &pt, &logits, &f->label);
  cs_model_backward (f->model);
  g_autoptr(CsSnapshot) snap = cs_snapshot_new (f->model, 0, CS_SNAPSHOT_ALL & ~CS_SNAPSHOT_INPUT_GRADIENT);
  f->state.snapshot = snap;
  g_assert_true (cs_network_view_state_showing_gradients (&f->state));

  CsPaletteKind kind;
  double limit;
  cs_network_view_state_get_scale (&f->state, HIDDEN, &kind, &limit);
  g_assert_cmpint (kind, ==, CS_PALETTE_DIVERGING);
  const float *g = cs_model_get_activation_grad (f->model, HIDDEN).data;
  g_assert_cmpfloat (limit, ==, largest_abs (g, 256));
  draw (f, W, H);
  for (guint k = 0; k < 256; k++)
    {
      graphene_rect_t r;
      cs_network_view_state_get_item_rect (&f->state, W, H, HIDDEN, k, &r);
      assert_colour (pixel_at_centre (f, &r), cs_palette_color (CS_PALETTE_DIVERGING, g[k] / limit),
                     "a unit's gradient");
    }
  f->state.snapshot = f->snap;
}

/* ---------------------------------------------------------------------------
 * The SimpleCNN: acts 0 input, 1 conv1 (32×28×28), 2 pool, 3 ReLU,
 * 4 conv2 (64×14×14), 5 pool, 6 ReLU, 7 flatten, 8 linear, 9 ReLU, 10 logits
 */

/* Counts the tiles in a rectangle: the rings of their grey frames. */
static guint
count_frames (Fixture *f, graphene_rect_t area, GArray *boxes)
{
  int x0 = (int) area.origin.x - 2, y0 = (int) area.origin.y - 2;
  int w = (int) area.size.width + 5, h = (int) area.size.height + 5;
  g_autofree guint8 *seen = g_new0 (guint8, (gsize) w * h);
  g_autofree int *stack = g_new (int, (gsize) w * h);
  guint n = 0;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        if (seen[y * w + x] || pixel (f, x0 + x, y0 + y) != 0x9e9e9e)
          continue;
        /* flood the ring */
        int top = 0, minx = x, maxx = x, miny = y, maxy = y;
        stack[top++] = y * w + x;
        seen[y * w + x] = 1;
        while (top > 0)
          {
            int p = stack[--top], px = p % w, py = p / w;
            minx = MIN (minx, px);
            maxx = MAX (maxx, px);
            miny = MIN (miny, py);
            maxy = MAX (maxy, py);
            const int nx[4] = { px - 1, px + 1, px, px }, ny[4] = { py, py, py - 1, py + 1 };
            for (int d = 0; d < 4; d++)
              if (nx[d] >= 0 && nx[d] < w && ny[d] >= 0 && ny[d] < h && !seen[ny[d] * w + nx[d]]
                  && pixel (f, x0 + nx[d], y0 + ny[d]) == 0x9e9e9e)
                {
                  seen[ny[d] * w + nx[d]] = 1;
                  stack[top++] = ny[d] * w + nx[d];
                }
          }
        graphene_rect_t box = GRAPHENE_RECT_INIT (x0 + minx + 1, y0 + miny + 1, maxx - minx - 1,
                                                  maxy - miny - 1);
        g_array_append_val (boxes, box);
        n++;
      }
  return n;
}

/* As many tiles drawn per convolution as it has channels, each where the
 * layout says. */
static void
test_cnn_tiles (Fixture *f, gconstpointer data)
{
  draw (f, W, H);
  const guint acts[] = { 1, 2, 3, 4, 5, 6 };
  const guint channels[] = { 32, 32, 32, 64, 64, 64 };
  for (gsize i = 0; i < G_N_ELEMENTS (acts); i++)
    {
      graphene_rect_t area;
      g_assert_true (cs_network_view_state_get_column_rect (&f->state, W, H, acts[i], &area));
      g_autoptr(GArray) boxes = g_array_new (FALSE, FALSE, sizeof (graphene_rect_t));
      g_assert_cmpuint (count_frames (f, area, boxes), ==, channels[i]);
      for (guint c = 0; c < channels[i]; c++)
        {
          graphene_rect_t tile, box = g_array_index (boxes, graphene_rect_t, 0);
          g_assert_true (cs_network_view_state_get_item_rect (&f->state, W, H, acts[i], c, &tile));
          gboolean found = FALSE;
          for (guint b = 0; b < boxes->len && !found; b++)
            {
              box = g_array_index (boxes, graphene_rect_t, b);
              found = fabs (box.origin.x - tile.origin.x) < 1.01
                      && fabs (box.origin.y - tile.origin.y) < 1.01
                      && fabs (box.size.width - tile.size.width) < 1.01;
            }
          g_assert_true (found);
        }
      graphene_rect_t none;
      g_assert_false (cs_network_view_state_get_item_rect (&f->state, W, H, acts[i], channels[i], &none));
    }
  /* the input, one tile; the 1-d layers and the output drawn too */
  graphene_rect_t r;
  for (guint act = 0; act <= 10; act++)
    g_assert_true (cs_network_view_state_get_column_rect (&f->state, W, H, act, &r));
}

/* Each device pixel of a map's tile has the colour of the value it shows. */
static void
check_map_pixels (Fixture *f, guint act, guint channel)
{
  const CsShape *s = cs_snapshot_get_shape (f->snap, act);
  int mh = (int) s->d[1], mw = (int) s->d[2];
  const float *all = model_activation (f, act);
  gsize n = (gsize) cs_shape_numel (s);
  double lo = 0.0;
  for (gsize i = 0; i < n; i++)
    lo = MIN (lo, all[i]);
  CsPaletteKind kind = lo < 0 ? CS_PALETTE_DIVERGING : CS_PALETTE_SEQUENTIAL;
  double limit = largest_abs (all, n);
  const float *map = all + (gsize) channel * mh * mw;

  graphene_rect_t tile;
  g_assert_true (cs_network_view_state_get_item_rect (&f->state, W, H, act, channel, &tile));
  int checked = 0;
  for (int py = (int) tile.origin.y; py < tile.origin.y + tile.size.height; py++)
    for (int px = (int) tile.origin.x; px < tile.origin.x + tile.size.width; px++)
      {
        double u = (px + 0.5 - tile.origin.x) * mw / tile.size.width;
        double v = (py + 0.5 - tile.origin.y) * mh / tile.size.height;
        /* away from the cells' borders, where rounding may pick either */
        if (u - floor (u) < 0.08 || u - floor (u) > 0.92 || v - floor (v) < 0.08 || v - floor (v) > 0.92)
          continue;
        float value = map[(int) v * mw + (int) u];
        assert_colour (pixel (f, px, py),
                       cs_palette_color (kind, cs_palette_normalize (kind, value, limit)),
                       "a feature map's pixel");
        checked++;
      }
  g_assert_cmpint (checked, >=, mh * mw / 2);
}

static void
test_cnn_map_pixels (Fixture *f, gconstpointer data)
{
  draw (f, W, H);
  check_map_pixels (f, 0, 0);    /* the input */
  check_map_pixels (f, 1, 5);    /* conv1, signed: diverging */
  check_map_pixels (f, 2, 31);   /* max-pooled */
  check_map_pixels (f, 3, 12);   /* ReLU: sequential */
  check_map_pixels (f, 4, 63);   /* conv2 */
  check_map_pixels (f, 6, 40);

  CsPaletteKind kind;
  double limit;
  cs_network_view_state_get_scale (&f->state, 1, &kind, &limit);
  g_assert_cmpint (kind, ==, CS_PALETTE_DIVERGING);
  cs_network_view_state_get_scale (&f->state, 3, &kind, &limit);
  g_assert_cmpint (kind, ==, CS_PALETTE_SEQUENTIAL);

  /* bigger at projector size */
  graphene_rect_t small, big;
  cs_network_view_state_get_item_rect (&f->state, 1280, 800, 4, 0, &small);
  cs_network_view_state_get_item_rect (&f->state, 1920, 1080, 4, 0, &big);
  g_assert_cmpfloat (big.size.width, >, small.size.width);
}

/* Clicking a map shows the kernels into its channel, each cell the colour
 * of its weight, scaled to the channel's largest |w|. */
static void
check_kernels (Fixture *f, guint act, guint channel, const char *weight)
{
  graphene_rect_t tile;
  g_assert_true (cs_network_view_state_get_item_rect (&f->state, W, H, act, channel, &tile));
  guint hit_act, hit_index;
  g_assert_true (cs_network_view_state_hit (&f->state, W, H, tile.origin.x + tile.size.width / 2,
                                            tile.origin.y + tile.size.height / 2, &hit_act, &hit_index));
  g_assert_cmpuint (hit_act, ==, act);
  g_assert_cmpuint (hit_index, ==, channel);
  cs_network_view_state_select (&f->state, (int) hit_act, (int) hit_index);
  draw (f, W, H);

  const CsTensor *k = model_param (f, weight);   /* (C_out, C_in, 3, 3) */
  gsize per = (gsize) (k->shape[1] * 9);
  const float *kc = k->data + channel * per;
  double limit = largest_abs (kc, per);
  for (guint ci = 0; ci < k->shape[1]; ci++)
    for (guint r = 0; r < 3; r++)
      for (guint c = 0; c < 3; c++)
        {
          graphene_rect_t cell;
          g_assert_true (cs_network_view_state_get_weight_cell_rect (&f->state, W, H, ci, r, c, &cell));
          g_assert_cmpfloat (cell.size.width, >=, 4);
          /* a corner of the cell: its value may be written in the middle */
          guint32 p = pixel (f, (int) (cell.origin.x + cell.size.width * 0.2),
                             (int) (cell.origin.y + cell.size.height * 0.2));
          assert_colour (p, cs_palette_color (CS_PALETTE_DIVERGING, kc[ci * 9 + r * 3 + c] / limit),
                         "a kernel weight");
        }
  graphene_rect_t none;
  g_assert_false (cs_network_view_state_get_weight_cell_rect (&f->state, W, H, (guint) k->shape[1],
                                                              0, 0, &none));
}

static void
test_cnn_kernels (Fixture *f, gconstpointer data)
{
  check_kernels (f, 1, 9, "0.weight");
  /* a pooled map's channel came from the same kernels */
  check_kernels (f, 2, 9, "0.weight");
  check_kernels (f, 4, 50, "3.weight");
  g_autofree char *text = cs_network_view_state_describe_selection (&f->state);
  g_assert_nonnull (strstr (text, "Feature map 50 of 64"));

  /* a unit of a linear layer: selectable, no kernels */
  graphene_rect_t r;
  g_assert_true (cs_network_view_state_get_item_rect (&f->state, W, H, 8, 5, &r));
  guint act, index;
  g_assert_true (cs_network_view_state_hit (&f->state, W, H, r.origin.x + r.size.width / 2,
                                            r.origin.y + r.size.height / 2, &act, &index));
  g_assert_cmpuint (act, ==, 8);
  cs_network_view_state_select (&f->state, (int) act, (int) index);
  g_assert_false (cs_network_view_state_get_weight_cell_rect (&f->state, W, H, 0, 0, 0, &r));
  draw (f, W, H);
}

/* The default selection: the first convolution's most active map. */
static void
test_cnn_default (Fixture *f, gconstpointer data)
{
  g_assert_true (cs_network_view_state_select_default (&f->state));
  g_assert_cmpint (f->state.selected_act, ==, 1);
  g_assert_true (cs_network_view_state_move_selection (&f->state, W, H, CS_NETWORK_MOVE_DOWN)
                 || cs_network_view_state_move_selection (&f->state, W, H, CS_NETWORK_MOVE_UP));
  /* walk right to the output */
  for (int i = 0; i < 40 && f->state.selected_act != 10; i++)
    cs_network_view_state_move_selection (&f->state, W, H, CS_NETWORK_MOVE_RIGHT);
  g_assert_cmpint (f->state.selected_act, ==, 10);
  g_autofree char *text = cs_network_view_state_describe_selection (&f->state);
  g_assert_true (g_str_has_prefix (text, "Output "));
}

/* Any size, any surface: no cairo error, no crash. */
static void
test_surfaces (Fixture *f, gconstpointer data)
{
  const int sizes[][2] = { { 320, 200 }, { 640, 400 }, { 1024, 768 }, { 2560, 1440 }, { 1, 1 } };
  cs_network_view_state_select_default (&f->state);
  for (gsize i = 0; i < G_N_ELEMENTS (sizes); i++)
    draw (f, sizes[i][0], sizes[i][1]);

  g_autofree char *dir = g_dir_make_tmp ("network-view-XXXXXX", NULL);
  g_autofree char *svg = g_build_filename (dir, "network.svg", NULL);
  g_autofree char *pdf = g_build_filename (dir, "network.pdf", NULL);
  cairo_surface_t *surfaces[2] = {
    cairo_svg_surface_create (svg, W, H),
    cairo_pdf_surface_create (pdf, W, H),
  };
  for (int i = 0; i < 2; i++)
    {
      cairo_t *cr = cairo_create (surfaces[i]);
      cs_network_view_state_draw (&f->state, cr, W, H);
      g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);
      cairo_destroy (cr);
      cairo_surface_finish (surfaces[i]);
      g_assert_cmpint (cairo_surface_status (surfaces[i]), ==, CAIRO_STATUS_SUCCESS);
      cairo_surface_destroy (surfaces[i]);
    }
  g_assert_true (g_file_test (svg, G_FILE_TEST_IS_REGULAR));
  g_assert_true (g_file_test (pdf, G_FILE_TEST_IS_REGULAR));
  g_unlink (svg);
  g_unlink (pdf);
  g_rmdir (dir);

  /* no snapshot: a placeholder */
  CsNetworkViewState empty;
  cs_network_view_state_init (&empty);
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 200, 100);
  cairo_t *cr = cairo_create (s);
  cs_network_view_state_draw (&empty, cr, 200, 100);
  cairo_destroy (cr);
  cairo_surface_destroy (s);
  guint act, index;
  g_assert_false (cs_network_view_state_hit (&empty, 200, 100, 50, 50, &act, &index));
  g_assert_false (cs_network_view_state_select_default (&empty));
}

/* ---------------------------------------------------------------------------
 * The widget, with a display
 */

static gboolean have_display;

static void
test_widget (Fixture *f, gconstpointer data)
{
  if (!have_display)
    {
      g_test_skip ("no display");
      return;
    }
  GtkWidget *window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (window), W, H);
  GtkWidget *view = cs_network_view_new ();
  g_assert_true (CS_IS_VIEW (view));
  gtk_window_set_child (GTK_WINDOW (window), view);
  cs_network_view_set_snapshot (CS_NETWORK_VIEW (view), f->snap);
  g_assert_true (cs_network_view_get_snapshot (CS_NETWORK_VIEW (view)) == f->snap);
  gtk_window_present (GTK_WINDOW (window));
  gtk_test_widget_wait_for_draw (view);

  /* a new snapshot selects the most active hidden unit */
  const CsNetworkViewState *state = cs_network_view_get_state (CS_NETWORK_VIEW (view));
  g_assert_cmpint (state->selected_act, ==, HIDDEN);

  /* the toolbar: two toggles with accessible names; Gradients insensitive */
  GtkWidget *toolbar = gtk_widget_get_first_child (view);
  GtkWidget *canvas = gtk_widget_get_last_child (view);
  GtkWidget *linked = gtk_widget_get_first_child (toolbar);
  GtkWidget *activations = gtk_widget_get_first_child (linked);
  GtkWidget *gradients = gtk_widget_get_last_child (linked);
  g_assert_true (GTK_IS_TOGGLE_BUTTON (activations));
  g_assert_true (GTK_IS_DRAWING_AREA (canvas));
  g_assert_cmpstr (gtk_button_get_label (GTK_BUTTON (activations)), ==, "Activations");
  g_assert_cmpstr (gtk_button_get_label (GTK_BUTTON (gradients)), ==, "Gradients");
  g_assert_true (gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (activations)));
  g_assert_false (gtk_widget_get_sensitive (gradients));
  gtk_test_accessible_assert_property (linked, GTK_ACCESSIBLE_PROPERTY_LABEL, "Show");
  gtk_test_accessible_assert_property (canvas, GTK_ACCESSIBLE_PROPERTY_LABEL,
                                       "Network diagram: click a unit or a feature map, or use "
                                       "the arrow keys");
  gtk_test_accessible_assert_property (view, GTK_ACCESSIBLE_PROPERTY_LABEL, "Network");
  g_assert_true (gtk_widget_get_focusable (canvas));

  /* a click on unit 100, through the canvas's gesture */
  int cw = gtk_widget_get_width (canvas), ch = gtk_widget_get_height (canvas);
  graphene_rect_t r;
  g_assert_true (cs_network_view_state_get_item_rect (state, cw, ch, HIDDEN, 100, &r));
  GtkEventController *click = NULL;
  GListModel *controllers = gtk_widget_observe_controllers (canvas);
  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      GtkEventController *c = g_list_model_get_item (controllers, i);
      if (GTK_IS_GESTURE_CLICK (c))
        click = c;
      g_object_unref (c);
    }
  g_object_unref (controllers);
  g_assert_nonnull (click);
  g_signal_emit_by_name (click, "pressed", 1, (double) (r.origin.x + r.size.width / 2),
                         (double) (r.origin.y + r.size.height / 2));
  g_assert_cmpint (state->selected_act, ==, HIDDEN);
  g_assert_cmpint (state->selected_index, ==, 100);
  g_autofree char *text = cs_network_view_state_describe_selection (state);
  gtk_test_accessible_assert_property (canvas, GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, text);
  /* the toolbar's label (after it: the Freeze and Zero buttons) */
  GtkWidget *label = gtk_widget_get_first_child (toolbar);
  while (label != NULL && !GTK_IS_LABEL (label))
    label = gtk_widget_get_next_sibling (label);
  g_assert_nonnull (label);
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (label)), ==, text);

  /* a snapshot with gradients makes the toggle sensitive */
  float probs[10];
  CsTensor pt = cs_tensor_view (probs, 2, (gint64[]) { 1, 10 });
  CsTensor dout = cs_model_get_output_grad (f->model);
  CsTensor logits = cs_model_get_activation (f->model, 4);
  cs_model_zero_grad (f->model);
  cs_loss_cross_entropy (cs_model_get_backend (f->model), &dout, &pt, &logits, &f->label);
  cs_model_backward (f->model);
  g_autoptr(CsSnapshot) snap = cs_snapshot_new (f->model, 0, CS_SNAPSHOT_ALL);
  cs_network_view_set_snapshot (CS_NETWORK_VIEW (view), snap);
  g_assert_cmpint (state->selected_index, ==, 100);   /* the same network: kept */
  g_assert_true (gtk_widget_get_sensitive (gradients));
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (gradients), TRUE);
  g_assert_true (cs_network_view_get_show_gradients (CS_NETWORK_VIEW (view)));
  g_assert_true (cs_network_view_state_showing_gradients (state));
  gtk_test_widget_wait_for_draw (view);

  /* export through the CsView interface */
  g_autofree char *dir = g_dir_make_tmp ("network-view-XXXXXX", NULL);
  g_autofree char *png = g_build_filename (dir, "network.png", NULL);
  g_autoptr(GError) error = NULL;
  g_assert_true (cs_view_export (CS_VIEW (view), png, CS_EXPORT_PNG, 800, 500, &error));
  g_assert_no_error (error);
  g_unlink (png);
  g_rmdir (dir);

  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int argc, char **argv)
{
  /* the accessibility test backend, before GTK starts */
  g_setenv ("GTK_A11Y", "test", TRUE);
  g_test_init (&argc, &argv, NULL);
  have_display = gtk_init_check ();

#define ADD(preset, name, fn) \
  g_test_add ("/app/network-view/" preset "/" name, Fixture, preset, fixture_set_up, fn, \
              fixture_tear_down)
  ADD ("mlp", "hidden-max", test_mlp_hidden_max);
  ADD ("mlp", "input-digit", test_mlp_input_digit);
  ADD ("mlp", "click-unit", test_mlp_click_unit);
  ADD ("mlp", "hit", test_mlp_hit);
  ADD ("mlp", "keys", test_mlp_keys);
  ADD ("mlp", "scales", test_mlp_scales);
  ADD ("mlp", "gradients", test_mlp_gradients);
  ADD ("mlp", "surfaces", test_surfaces);
  ADD ("mlp", "widget", test_widget);
  ADD ("simple-cnn", "tiles", test_cnn_tiles);
  ADD ("simple-cnn", "map-pixels", test_cnn_map_pixels);
  ADD ("simple-cnn", "kernels", test_cnn_kernels);
  ADD ("simple-cnn", "default", test_cnn_default);
  ADD ("simple-cnn", "surfaces", test_surfaces);
  ADD ("residual-cnn", "surfaces", test_surfaces);
#undef ADD
  return g_test_run ();
}
