/* cs-worked-text.h — the worked example's numbers written out for people
 *
 * The Convolution, pooling and Backward views write the engine's numbers
 * (core/worked.h) as a teacher would on the board: "3·0 + 3·1 + 2·2 + … = 24",
 * "max(−∞, −∞, −∞, 24) = 24", "(0 + 0 + 0 + 24)/4 = 6". Nothing here
 * computes: every number is one the engine produced, only formatted.
 */
#pragma once

#include <glib.h>

#include "core/worked.h"

G_BEGIN_DECLS

/* Beyond this many products a window's sum is shortened: the first and last
 * few products with "…" between (a 7×7 kernel is still written in full). */
#define CS_WORKED_TEXT_MAX_TERMS 49

/* The shortest text that reads back as the same float, at least 6
 * significant digits: "24", "5.375", "0.1"; "−3" with a real minus sign,
 * never "−0"; "−∞" and "∞". */
char    *cs_worked_text_number      (double value);

/* The same as a factor: negative numbers in parentheses, "(−1)". */
char    *cs_worked_text_factor      (double value);

/* A convolution cell: "3·0 + 3·1 + … + 2·2 = 24", with the bias as
 * "… + 1 (bias) = 25" when the example has one (has_bias). */
char    *cs_worked_text_conv_cell   (const CsWorkedConvCell *cell, gboolean has_bias);

/* A pooling cell: "max(−∞, −∞, −∞, 24) = 24" (padding is −∞) or
 * "(0 + 0 + 0 + 24)/4 = 6" (padding counted as 0, divisor included). */
char    *cs_worked_text_pool_cell   (const CsWorkedPoolCell *cell, CsWorkedPool kind);

/* The number to at most 6 significant digits, as the Backward view writes
 * the results of float32 arithmetic: "0.8" for the float 0.79999995. exact
 * (may be NULL) is set to FALSE when that is not the same float. */
char    *cs_worked_text_short       (double value, gboolean *exact);
/* The same as a factor: "(−0.305556)". */
char    *cs_worked_text_short_factor (double value, gboolean *exact);

/* A backward sum: "3·1 + 3·1 + 2·0 + … = 12", each product the factor (an
 * input or a weight) times the gradient it met; the bias's terms (ki = −1)
 * are gradients alone: "1 + 1 − 0.5 + … = 1.5". A cell no product reaches
 * is "0". Numbers as cs_worked_text_short () writes them; when one of them
 * was rounded, "≈" stands before the result instead of "=". The result is
 * the engine's number. */
char    *cs_worked_text_grad_cell   (const CsWorkedGradCell *cell);

/* Replaces a typographic minus "−" by "-" and reads one number, refusing
 * anything else, infinities and |value| > CS_WORKED_MAX_VALUE with a message
 * a person understands (G_IO_ERROR_INVALID_DATA): "“abc” is not a number". */
gboolean cs_worked_text_parse_value (const char *text, double *value, GError **error);

G_END_DECLS
