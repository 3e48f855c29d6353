/* cs-application.h — the application: one session, one settings object, its windows */
#pragma once

#include <gtk/gtk.h>

#include "cs-session.h"

G_BEGIN_DECLS

#define CS_APPLICATION_ID "io.github.convscope.Convscope"

#define CS_TYPE_APPLICATION (cs_application_get_type ())
G_DECLARE_FINAL_TYPE (CsApplication, cs_application, CS, APPLICATION, GtkApplication)

CsApplication *cs_application_new          (void);
/* The networks and predictions every window shows (after startup). */
CsSession     *cs_application_get_session  (CsApplication *self);
/* The application's settings, or NULL when its schema is neither
 * installed nor in the build folder (nothing is remembered then). */
GSettings     *cs_application_get_settings (CsApplication *self);

/* Binds the text domain to the catalogues: the build folder's
 * (build/po/) for a program run from there, else the installed ones. Call
 * after setlocale(). Returns the folder bound. */
const char    *cs_application_bind_text_domain (void);

G_END_DECLS
