/* cs-style.c — how big and how strong the views draw */
#include "cs-style.h"

/* Read and written on the main thread only, like the widgets. */
static gboolean presentation;

gboolean
cs_style_get_presentation (void)
{
  return presentation;
}

void
cs_style_set_presentation (gboolean value)
{
  presentation = !!value;
}

double
cs_style_type (void)
{
  return presentation ? CS_STYLE_PRESENTATION_TYPE : 1.0;
}

double
cs_style_line (void)
{
  return presentation ? CS_STYLE_PRESENTATION_LINE : 1.0;
}

gboolean
cs_style_high_contrast (void)
{
  return presentation;
}
