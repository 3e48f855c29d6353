/* error.h — the error domain of the core library
 *
 * Expected failures (a file that is not what it claims, a model description
 * that cannot be built, a checkpoint for another model) come back as GErrors
 * in CS_ERROR with a message written for a person. Programming errors are
 * assertions.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define CS_ERROR (cs_error_quark ())

typedef enum
{
  CS_ERROR_INVALID_MODEL,  /* a model description that cannot be built */
  CS_ERROR_INVALID_FILE,   /* a file that is not what it should be */
  CS_ERROR_MISMATCH,       /* a file for another model, a wrong shape */
  CS_ERROR_IO,             /* reading or writing failed */
  CS_ERROR_UNSUPPORTED,    /* valid, but not something Convscope does; no GPU */
  CS_ERROR_DEVICE,         /* the GPU failed at work: out of memory, a lost device */
} CsError;

GQuark cs_error_quark (void);

G_END_DECLS
