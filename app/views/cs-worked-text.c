/* cs-worked-text.c — the worked example's numbers written out for people */
#include "cs-worked-text.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#define MINUS "\xe2\x88\x92"   /* U+2212 − */

/* How many products are kept at each end of a shortened sum. */
#define HEAD_TERMS 12
#define TAIL_TERMS 3

static void
append_number (GString *s, double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE], format[8];

  if (isnan (v))
    {
      g_string_append (s, "NaN");
      return;
    }
  if (isinf (v))
    {
      g_string_append (s, v < 0 ? MINUS "∞" : "∞");
      return;
    }
  if (v == 0)
    v = 0;  /* −0 → 0 */
  /* The shortest of %.6g … %.9g that reads back as the same float. */
  for (int p = 6; p <= 9; p++)
    {
      g_snprintf (format, sizeof format, "%%.%dg", p);
      g_ascii_formatd (buf, sizeof buf, format, v);
      if ((float) g_ascii_strtod (buf, NULL) == (float) v)
        break;
    }
  if (buf[0] == '-')
    {
      g_string_append (s, MINUS);
      g_string_append (s, buf + 1);
    }
  else
    g_string_append (s, buf);
}

static void
append_factor (GString *s, double v)
{
  gboolean paren = v < 0 && !isinf (v);

  if (paren)
    g_string_append_c (s, '(');
  append_number (s, v);
  if (paren)
    g_string_append_c (s, ')');
}

/* At most 6 significant digits; *exact &= it is the same float. */
static void
append_short (GString *s, double v, gboolean *exact)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (!isfinite (v))
    {
      append_number (s, v);
      return;
    }
  g_ascii_formatd (buf, sizeof buf, "%.6g", v);
  double r = g_ascii_strtod (buf, NULL);
  if (exact != NULL && (float) r != (float) v)
    *exact = FALSE;
  append_number (s, r);
}

static void
append_short_factor (GString *s, double v, gboolean *exact)
{
  gboolean paren = v < 0 && !isinf (v);

  if (paren)
    g_string_append_c (s, '(');
  append_short (s, v, exact);
  if (paren)
    g_string_append_c (s, ')');
}

char *
cs_worked_text_short (double value, gboolean *exact)
{
  GString *s = g_string_new (NULL);
  append_short (s, value, exact);
  return g_string_free (s, FALSE);
}

char *
cs_worked_text_short_factor (double value, gboolean *exact)
{
  GString *s = g_string_new (NULL);
  append_short_factor (s, value, exact);
  return g_string_free (s, FALSE);
}

char *
cs_worked_text_number (double value)
{
  GString *s = g_string_new (NULL);
  append_number (s, value);
  return g_string_free (s, FALSE);
}

char *
cs_worked_text_factor (double value)
{
  GString *s = g_string_new (NULL);
  append_factor (s, value);
  return g_string_free (s, FALSE);
}

/* Whether term i of n is written, and whether "…" goes before it. */
static gboolean
term_shown (int i, int n, gboolean *ellipsis_before)
{
  *ellipsis_before = FALSE;
  if (n <= CS_WORKED_TEXT_MAX_TERMS || i < HEAD_TERMS || i >= n - TAIL_TERMS)
    {
      *ellipsis_before = n > CS_WORKED_TEXT_MAX_TERMS && i == n - TAIL_TERMS;
      return TRUE;
    }
  return FALSE;
}

char *
cs_worked_text_conv_cell (const CsWorkedConvCell *cell, gboolean has_bias)
{
  g_return_val_if_fail (cell != NULL, NULL);

  GString *s = g_string_new (NULL);
  for (int t = 0; t < cell->n_terms; t++)
    {
      const CsWorkedTerm *term = &cell->terms[t];
      gboolean ellipsis;

      if (!term_shown (t, cell->n_terms, &ellipsis))
        continue;
      if (ellipsis)
        g_string_append (s, " + …");
      if (t > 0)
        g_string_append (s, " + ");
      append_factor (s, term->input);
      g_string_append (s, "·");
      append_factor (s, term->weight);
    }
  if (has_bias)
    {
      g_string_append (s, cell->bias < 0 ? " " MINUS " " : " + ");
      append_number (s, fabsf (cell->bias));
      /* TRANSLATORS: after the bias term of a sum, "… + 1 (bias) = 25" */
      g_string_append_printf (s, " (%s)", _("bias"));
    }
  g_string_append (s, " = ");
  append_number (s, cell->value);
  return g_string_free (s, FALSE);
}

char *
cs_worked_text_pool_cell (const CsWorkedPoolCell *cell, CsWorkedPool kind)
{
  g_return_val_if_fail (cell != NULL, NULL);
  g_return_val_if_fail (kind == CS_WORKED_POOL_MAX || kind == CS_WORKED_POOL_AVG, NULL);

  gboolean is_max = kind == CS_WORKED_POOL_MAX;
  GString *s = g_string_new (is_max ? "max(" : "(");
  for (int t = 0; t < cell->n_cells; t++)
    {
      gboolean ellipsis;

      if (!term_shown (t, cell->n_cells, &ellipsis))
        continue;
      if (ellipsis)
        g_string_append (s, is_max ? ", …" : " + …");
      if (t > 0)
        g_string_append (s, is_max ? ", " : " + ");
      append_number (s, cell->cells[t].value);
    }
  g_string_append_c (s, ')');
  if (!is_max)
    g_string_append_printf (s, "/%d", cell->divisor);
  g_string_append (s, " = ");
  append_number (s, cell->value);
  return g_string_free (s, FALSE);
}

char *
cs_worked_text_grad_cell (const CsWorkedGradCell *cell)
{
  g_return_val_if_fail (cell != NULL, NULL);

  gboolean exact = TRUE;
  if (cell->n_terms == 0)
    return cs_worked_text_short (cell->value, NULL);

  GString *s = g_string_new (NULL);
  for (int t = 0; t < cell->n_terms; t++)
    {
      const CsWorkedGradTerm *term = &cell->terms[t];
      gboolean ellipsis;

      if (!term_shown (t, cell->n_terms, &ellipsis))
        continue;
      if (ellipsis)
        g_string_append (s, " + …");
      if (term->ki < 0)
        {
          /* the bias: a plain sum, "1 − 0.5" */
          if (t > 0)
            g_string_append (s, term->grad < 0 ? " " MINUS " " : " + ");
          append_short (s, t > 0 ? fabsf (term->grad) : term->grad, &exact);
          continue;
        }
      if (t > 0)
        g_string_append (s, " + ");
      append_short_factor (s, term->factor, &exact);
      g_string_append (s, "·");
      append_short_factor (s, term->grad, &exact);
    }
  GString *result = g_string_new (NULL);
  append_short (result, cell->value, &exact);
  g_string_append_printf (s, " %s %s", exact ? "=" : "≈", result->str);
  g_string_free (result, TRUE);
  return g_string_free (s, FALSE);
}

gboolean
cs_worked_text_parse_value (const char *text, double *value, GError **error)
{
  g_return_val_if_fail (text != NULL && value != NULL, FALSE);

  g_autofree char *stripped = g_strstrip (g_strdup (text));
  if (*stripped == '\0')
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           _("Type a number, e.g. 3 or −1.5"));
      return FALSE;
    }

  /* "−2" (U+2212) as "-2"; a decimal comma as a point */
  GString *ascii = g_string_new (stripped);
  g_string_replace (ascii, MINUS, "-", 0);
  g_string_replace (ascii, ",", ".", 0);
  g_autofree char *plain = g_string_free (ascii, FALSE);

  char *end = NULL;
  double v = g_ascii_strtod (plain, &end);
  if (end == plain || *end != '\0' || isnan (v))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("“%s” is not a number"), stripped);
      return FALSE;
    }
  if (!isfinite (v) || fabs (v) > CS_WORKED_MAX_VALUE)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("%s is out of range: numbers must be between −%.0f and %.0f"),
                   stripped, CS_WORKED_MAX_VALUE, CS_WORKED_MAX_VALUE);
      return FALSE;
    }
  *value = v + 0.0;  /* never −0 */
  return TRUE;
}
