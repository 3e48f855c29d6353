/* no-cuda.c — cs_backend_cuda () in a build without the CUDA toolkit */
#include "core/backend.h"
#include "core/error.h"

const CsBackend *
cs_backend_cuda (GError **error)
{
  g_set_error (error, CS_ERROR, CS_ERROR_UNSUPPORTED,
               "no CUDA device: this Convscope was built without CUDA "
               "(rebuild with nvcc installed, or -Dcuda=enabled)");
  return NULL;
}
