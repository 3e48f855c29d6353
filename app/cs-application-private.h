/* cs-application-private.h — the application's instance, for its actions */
#pragma once

#include "cs-application.h"

G_BEGIN_DECLS

struct _CsApplication
{
  GtkApplication  parent_instance;

  /* Owned references, made at startup */
  CsSession      *session;
  GSettings      *settings;
};

void _cs_application_actions_init (CsApplication *self);

G_END_DECLS
