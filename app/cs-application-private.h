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

  /* Sessions */
  char           *autosave_path;   /* in the user's state folder */
  gboolean        new_session;     /* --new-session: the autosave is not restored */
};

void _cs_application_actions_init (CsApplication *self);

G_END_DECLS
