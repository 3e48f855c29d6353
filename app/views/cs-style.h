/* cs-style.h — how big and how strong the views draw: normal, or for a
 * projector
 *
 * Presentation mode is one setting for the whole application, like the
 * desktop's text scaling: every view multiplies its base type size by
 * cs_style_type () and its stroke widths by cs_style_line (), and in high
 * contrast draws dim text (captions, hints, axes) in full ink. The window
 * turns it on and off (win.presentation) and redraws its views.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The factors presentation mode draws with: type half as big again,
 * strokes twice as thick. */
#define CS_STYLE_PRESENTATION_TYPE 1.45
#define CS_STYLE_PRESENTATION_LINE 2.0

gboolean cs_style_get_presentation (void);
void     cs_style_set_presentation (gboolean presentation);

/* 1.0, or CS_STYLE_PRESENTATION_TYPE in presentation mode */
double   cs_style_type             (void);
/* 1.0, or CS_STYLE_PRESENTATION_LINE in presentation mode */
double   cs_style_line             (void);
/* TRUE in presentation mode: dim text is drawn as ink */
gboolean cs_style_high_contrast    (void);
/* The colour of dim text in Pango markup ("#5c5c5c", or near black) */
#define CS_STYLE_DIM_MARKUP (cs_style_high_contrast () ? "#1f1f1f" : "#5c5c5c")

G_END_DECLS
