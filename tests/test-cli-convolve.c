/* test-cli-convolve.c — convscope-cli convolve, end to end
 *
 * Runs the built binary ($CONVSCOPE_CLI) and reads what it prints: the
 * default example's numbers, JSON lines that parse with the documented
 * keys, the answer key of --explain, and for every bad argument exit
 * status 2 with exactly one line on stderr naming the argument.
 */
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/wait.h>

typedef struct
{
  int status;
  char *out, *err;
} Run;

static void
run_clear (Run *r)
{
  g_free (r->out);
  g_free (r->err);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Run, run_clear)

/* convscope-cli convolve ARGS… */
static void
run_convolve (Run *r, const char *const *args)
{
  const char *cli = g_getenv ("CONVSCOPE_CLI");
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  int wait_status = 0;

  g_assert_nonnull (cli);
  g_ptr_array_add (argv, (char *) cli);
  g_ptr_array_add (argv, "convolve");
  for (; args && *args; args++)
    g_ptr_array_add (argv, (char *) *args);
  g_ptr_array_add (argv, NULL);

  /* UTF-8 messages whatever the caller's locale */
  g_auto(GStrv) env = g_environ_setenv (g_get_environ (), "LC_ALL", "C.UTF-8", TRUE);
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, env, G_SPAWN_DEFAULT, NULL, NULL,
                               &r->out, &r->err, &wait_status, &error));
  g_assert_no_error (error);
  g_assert_true (WIFEXITED (wait_status));
  r->status = WEXITSTATUS (wait_status);
}

static void
assert_contains (const char *text, const char *line)
{
  if (strstr (text, line) == NULL)
    g_test_fail_printf ("the output does not contain “%s”:\n%s", line, text);
}

static void
assert_success (const Run *r)
{
  if (r->status != 0)
    g_test_message ("stderr: %s", r->err);
  g_assert_cmpint (r->status, ==, 0);
  g_assert_cmpstr (r->err, ==, "");
}

/* ---------------------------------------------------------------------------
 * Good runs
 */

static void
test_cli_default (void)
{
  g_auto(Run) r = { 0 };
  run_convolve (&r, NULL);

  assert_success (&r);
  assert_contains (r.out, "conv2d: Conv2d(1, 1, kernel_size=3, bias=False) → [1, 1, 3, 3]\n"
                          "  H_out = ⌊(5 + 2·0 − 1·(3−1) − 1)/1⌋ + 1 = 3\n"
                          "  W_out = ⌊(5 + 2·0 − 1·(3−1) − 1)/1⌋ + 1 = 3\n"
                          "  24  18   8\n"
                          "  26  18   8\n"
                          "  28  18   8\n");
  assert_contains (r.out, "maxpool2d: MaxPool2d(kernel_size=2, stride=2, padding=1) "
                          "→ [1, 1, 2, 2]\n"
                          "  H_out = ⌊(3 + 2·1 − 1·(2−1) − 1)/2⌋ + 1 = 2\n"
                          "  W_out = ⌊(3 + 2·1 − 1·(2−1) − 1)/2⌋ + 1 = 2\n"
                          "  24  18\n"
                          "  28  18\n");
  assert_contains (r.out, "flatten: Flatten() → [1, 4]\n  24  18  28  18\n");
  assert_contains (r.out, "relu: ReLU() → [1, 1, 3, 3]\n");
  assert_contains (r.out, "  4  3  2  1  0\n");
  /* no answer key without --explain */
  g_assert_null (strstr (r.out, "conv2d[0,0]"));
}

static void
test_cli_explain (void)
{
  const char *args[] = { "--explain", NULL };
  g_auto(Run) r = { 0 };
  run_convolve (&r, args);

  assert_success (&r);
  assert_contains (r.out, "  conv2d[0,0] = 3·0 + 3·1 + 2·2 + 2·2 + 3·2 + 2·0 + 3·0 + 3·1 + 2·2 "
                          "= 24\n");
  assert_contains (r.out, "  conv2d[2,0] = 3·0 + 3·1 + 2·2 + 4·2 + 3·2 + 2·0 + 1·0 + 3·1 + 2·2 "
                          "= 28\n");
  assert_contains (r.out, "  relu[0,2] = max(0, 8) = 8\n");
  assert_contains (r.out, "  maxpool2d[1,0] = max([−∞], 26, [−∞], 28) = 28, from relu[2,0]\n");
  assert_contains (r.out, "  maxpool2d[1,1] = max(18, 8, 18, 8) = 18, from relu[1,1]\n");
  assert_contains (r.out, "  flatten[2] = maxpool2d[1,0] = 28\n");
}

/* Padding cells marked, a negative weight in parentheses, the bias written
 * out, average pooling with its divisor. */
static void
test_cli_explain_custom (void)
{
  const char *args[] = { "--input", "1 2 3; 4 5 6; 7 8 9", "--kernel", "1, 0; 0, -1",
                         "--padding", "1", "--bias=-0.5", "--relu", "--pool", "avg",
                         "--explain", NULL };
  g_auto(Run) r = { 0 };
  run_convolve (&r, args);

  assert_success (&r);
  assert_contains (r.out, "conv2d: Conv2d(1, 1, kernel_size=2, padding=1), bias -0.5 "
                          "→ [1, 1, 4, 4]\n");
  assert_contains (r.out, "  conv2d[0,0] = [0]·1 + [0]·0 + [0]·0 + 1·(-1) - 0.5 (bias) "
                          "= -1.5\n");
  assert_contains (r.out, "  conv2d[1,1] = 1·1 + 2·0 + 4·0 + 5·(-1) - 0.5 (bias) = -4.5\n");
  assert_contains (r.out, "  relu[1,3] = max(0, 2.5) = 2.5\n");
  /* AvgPool2d(2, 2): ReLU's [[0,0,0,0],[0,0,0,2.5],[0,0,0,5.5],[0,6.5,7.5,8.5]] */
  assert_contains (r.out, "  avgpool2d[1,1] = (0 + 5.5 + 7.5 + 8.5)/4 = 5.375\n");
  assert_contains (r.out, "      0  0.625\n  1.625  5.375\n");
  /* no flatten unless asked for */
  g_assert_null (strstr (r.out, "flatten"));
}

static JsonObject *
parse_line (const char *line)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  if (!json_parser_load_from_data (parser, line, -1, &error))
    g_test_fail_printf ("not JSON: %s\n%s", error->message, line);
  g_assert_no_error (error);
  JsonNode *root = json_parser_get_root (parser);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (root));
  return json_object_ref (json_node_get_object (root));
}

static void
assert_numbers (JsonArray *a, const double *expected, guint n)
{
  g_assert_cmpuint (json_array_get_length (a), ==, n);
  for (guint i = 0; i < n; i++)
    g_assert_cmpfloat (json_array_get_double_element (a, i), ==, expected[i]);
}

static void
test_cli_json (void)
{
  const char *args[] = { "--json", "--explain", NULL };
  g_auto(Run) r = { 0 };
  run_convolve (&r, args);

  assert_success (&r);
  g_assert_true (g_str_has_suffix (r.out, "}\n"));
  g_auto(GStrv) lines = g_strsplit (r.out, "\n", -1);
  const char *stages[] = { "input", "kernel", "conv2d", "relu", "maxpool2d", "flatten" };
  g_assert_cmpuint (g_strv_length (lines), ==, G_N_ELEMENTS (stages) + 1);
  g_assert_cmpstr (lines[G_N_ELEMENTS (stages)], ==, "");

  for (guint i = 0; i < G_N_ELEMENTS (stages); i++)
    {
      g_autoptr(JsonObject) o = parse_line (lines[i]);
      g_assert_cmpstr (json_object_get_string_member (o, "stage"), ==, stages[i]);
      g_assert_true (json_object_has_member (o, "shape"));
      g_assert_true (json_object_has_member (o, "values"));
      JsonArray *shape = json_object_get_array_member (o, "shape");
      JsonArray *values = json_object_get_array_member (o, "values");

      if (g_str_equal (stages[i], "conv2d"))
        {
          const double s[4] = { 1, 1, 3, 3 }, row2[3] = { 28, 18, 8 }, pair[2] = { 1, 1 };
          assert_numbers (shape, s, 4);
          assert_numbers (json_array_get_array_element (values, 2), row2, 3);
          assert_numbers (json_object_get_array_member (o, "stride"), pair, 2);
          g_assert_true (json_object_get_null_member (o, "bias"));
          JsonArray *sizes = json_object_get_array_member (o, "output_size");
          g_assert_cmpstr (json_array_get_string_element (sizes, 0), ==,
                           "⌊(5 + 2·0 − 1·(3−1) − 1)/1⌋ + 1 = 3");

          /* cells[3] is conv2d[1,0] = 26: nine terms adding up */
          JsonArray *cells = json_object_get_array_member (o, "cells");
          g_assert_cmpuint (json_array_get_length (cells), ==, 9);
          JsonObject *cell = json_array_get_object_element (cells, 3);
          const double at[2] = { 1, 0 };
          assert_numbers (json_object_get_array_member (cell, "cell"), at, 2);
          JsonArray *terms = json_object_get_array_member (cell, "terms");
          g_assert_cmpuint (json_array_get_length (terms), ==, 9);
          double sum = 0;
          for (guint t = 0; t < 9; t++)
            {
              JsonObject *term = json_array_get_object_element (terms, t);
              g_assert_false (json_object_get_boolean_member (term, "padding"));
              double x = json_object_get_double_member (term, "x");
              double w = json_object_get_double_member (term, "w");
              g_assert_cmpfloat (json_object_get_double_member (term, "product"), ==, x * w);
              sum += x * w;
            }
          JsonObject *t4 = json_array_get_object_element (terms, 4);
          const double in4[2] = { 2, 1 }, k4[2] = { 1, 1 };
          assert_numbers (json_object_get_array_member (t4, "input"), in4, 2);
          assert_numbers (json_object_get_array_member (t4, "kernel"), k4, 2);
          g_assert_cmpfloat (sum, ==, 26);
          g_assert_cmpfloat (json_object_get_double_member (cell, "sum"), ==, 26);
          g_assert_cmpfloat (json_object_get_double_member (cell, "bias"), ==, 0);
          g_assert_cmpfloat (json_object_get_double_member (cell, "value"), ==, 26);
        }
      else if (g_str_equal (stages[i], "maxpool2d"))
        {
          const double s[4] = { 1, 1, 2, 2 }, pad[2] = { 1, 1 }, winner[2] = { 2, 0 };
          assert_numbers (shape, s, 4);
          assert_numbers (json_object_get_array_member (o, "padding"), pad, 2);
          JsonArray *cells = json_object_get_array_member (o, "cells");
          JsonObject *cell = json_array_get_object_element (cells, 2);   /* [1,0] */
          assert_numbers (json_object_get_array_member (cell, "winner"), winner, 2);
          g_assert_cmpfloat (json_object_get_double_member (cell, "value"), ==, 28);
          JsonArray *window = json_object_get_array_member (cell, "window");
          JsonObject *corner = json_array_get_object_element (window, 0);
          g_assert_true (json_object_get_boolean_member (corner, "padding"));
          g_assert_true (json_object_get_null_member (corner, "x"));  /* −∞ */
        }
      else if (g_str_equal (stages[i], "flatten"))
        {
          const double s[2] = { 1, 4 }, v[4] = { 24, 18, 28, 18 };
          assert_numbers (shape, s, 2);
          assert_numbers (values, v, 4);
        }
      else if (g_str_equal (stages[i], "kernel"))
        {
          const double row0[3] = { 0, 1, 2 };
          assert_numbers (json_array_get_array_element (values, 0), row0, 3);
        }
    }
}

/* Without --explain the lines carry no "cells"; average pooling's numbers. */
static void
test_cli_json_avg (void)
{
  const char *args[] = { "--json", "--relu", "--pool", "avg", "--pool-kernel", "2",
                         "--pool-padding", "1", "--flatten", NULL };
  g_auto(Run) r = { 0 };
  run_convolve (&r, args);

  assert_success (&r);
  g_auto(GStrv) lines = g_strsplit (r.out, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 7);
  for (guint i = 0; i < 6; i++)
    {
      g_autoptr(JsonObject) o = parse_line (lines[i]);
      g_assert_false (json_object_has_member (o, "cells"));
      if (g_str_equal (json_object_get_string_member (o, "stage"), "flatten"))
        {
          /* PyTorch: F.avg_pool2d(relu, 2, 2, 1) = [[6, 6.5], [13.5, 13]] */
          const double v[4] = { 6, 6.5, 13.5, 13 };
          assert_numbers (json_object_get_array_member (o, "values"), v, 4);
        }
    }
  assert_contains (r.out, "{\"stage\":\"avgpool2d\",\"shape\":[1,1,2,2],\"kernel_size\":[2,2],"
                          "\"stride\":[2,2],\"padding\":[1,1],");
}

static void
test_cli_help (void)
{
  const char *args[] = { "--help", NULL };
  g_auto(Run) r = { 0 };
  run_convolve (&r, args);

  assert_success (&r);
  assert_contains (r.out, "--explain");
  assert_contains (r.out, "Examples:");
  assert_contains (r.out, "\"output_size\"");
  assert_contains (r.out, "count_include_pad=True");
}

/* ---------------------------------------------------------------------------
 * Bad arguments: status 2, nothing on stdout, one line on stderr
 */

typedef struct
{
  const char *name;
  const char *args[8];
  const char *message;   /* after "convscope-cli convolve: " */
} BadArgs;

static const BadArgs bad_args[] = {
  { "kernel-ragged", { "--kernel", "1 2 3; 4 5" },
    "--kernel: row 2 has 2 numbers, row 1 has 3" },
  { "input-empty", { "--input", "" },
    "--input: no numbers; write rows of numbers separated by “;”, e.g. “1 2 3; 4 5 6”" },
  { "input-not-a-number", { "--input", "1 2; three 4" },
    "--input: row 2, number 1: “three” is not a number" },
  { "input-too-large", { "--input", "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 "
                         "22 23 24 25 26 27 28 29 30 31 32 33 34 35 36 37 38 39 40 41 42 43 "
                         "44 45 46 47 48 49 50 51 52 53 54 55 56 57 58 59 60 61 62 63 64 65" },
    "--input: row 1 has more than 64 numbers" },
  { "kernel-too-large", { "--input", "1 2; 3 4", "--kernel", "1 2 3; 4 5 6; 7 8 9" },
    "--kernel: the 3×3 kernel is larger than the 2×2 input padded by 0×0 (2×2): "
    "the output would be 0×0" },
  { "dilation-too-large", { "--dilation", "3" },
    "--kernel: the 3×3 kernel with dilation 3×3 spans 7×7 cells, which is larger than "
    "the 5×5 input padded by 0×0 (5×5): the output would be 0×0" },
  { "stride-negative", { "--stride", "-1" },
    "--stride: -1 is out of range, it must be between 1 and 64" },
  { "stride-zero", { "--stride=1,0" },
    "--stride: 0 is out of range, it must be between 1 and 64" },
  { "stride-not-a-number", { "--stride", "two" },
    "--stride: “two” is not a whole number N or a pair of them H,W" },
  { "padding-triple", { "--padding", "1,2,3" },
    "--padding: “1,2,3” is not a whole number N or a pair of them H,W" },
  { "padding-absurd", { "--padding", "100" },
    "--padding: 100 is out of range, it must be between 0 and 64" },
  { "bias-not-a-number", { "--bias", "a" }, "--bias: “a” is not a number" },
  { "bias-absurd", { "--bias", "1e9" },
    "--bias: 1e9 is out of range; values must be between −1000000 and 1000000" },
  { "pool-unknown", { "--pool", "min" }, "--pool: “min” is not max or avg" },
  { "pool-kernel-without-pool", { "--pool-kernel", "3" },
    "--pool-kernel: needs --pool max or --pool avg" },
  { "pool-padding-over-half", { "--pool", "max", "--pool-padding", "2" },
    "--pool-padding: 2 is more than half the pool kernel 2 (PyTorch refuses it too)" },
  { "pool-window-too-large", { "--pool", "avg", "--pool-kernel", "4" },
    "--pool-kernel: the 4×4 window is larger than the 3×3 map padded by 0×0 (3×3)" },
  { "pool-stride-zero", { "--pool", "max", "--pool-stride", "0" },
    "--pool-stride: 0 is out of range, it must be between 1 and 64" },
  { "unknown-option", { "--frobnicate" }, "Unknown option --frobnicate" },
  { "missing-value", { "--kernel" }, "Missing argument for --kernel" },
  { "extra-argument", { "5x5" }, "unexpected argument “5x5” (try --help)" },
};

static void
test_cli_bad (gconstpointer data)
{
  const BadArgs *ba = data;
  g_auto(Run) r = { 0 };
  g_autofree char *expected = g_strdup_printf ("convscope-cli convolve: %s\n", ba->message);

  run_convolve (&r, ba->args);
  g_assert_cmpint (r.status, ==, 2);
  g_assert_cmpstr (r.out, ==, "");
  g_assert_cmpstr (r.err, ==, expected);
}

static void
test_cli_skipped (void)
{
  g_test_skip ("set CONVSCOPE_CLI to the convscope-cli to test (meson test does)");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  if (g_getenv ("CONVSCOPE_CLI") == NULL)
    {
      g_test_add_func ("/cli/convolve/skipped", test_cli_skipped);
      return g_test_run ();
    }

  g_test_add_func ("/cli/convolve/default", test_cli_default);
  g_test_add_func ("/cli/convolve/explain", test_cli_explain);
  g_test_add_func ("/cli/convolve/explain-custom", test_cli_explain_custom);
  g_test_add_func ("/cli/convolve/json", test_cli_json);
  g_test_add_func ("/cli/convolve/json-avg", test_cli_json_avg);
  g_test_add_func ("/cli/convolve/help", test_cli_help);
  for (gsize i = 0; i < G_N_ELEMENTS (bad_args); i++)
    {
      g_autofree char *path = g_strconcat ("/cli/convolve/bad/", bad_args[i].name, NULL);
      g_test_add_data_func (path, &bad_args[i], test_cli_bad);
    }

  return g_test_run ();
}
