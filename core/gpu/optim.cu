/* optim.cu — SGD, Adam and RMSprop updates, PyTorch's rules
 *
 * One thread per parameter, backend-ref.c's float expressions; the scalars
 * that depend on the step (Adam's bias corrections) are computed on the
 * host, in double, exactly as the CPU computes them.
 */
#include "common.cuh"

/* d = g + λp;  b = d (first step) or μb + (1 − τ)d;  d = b (or d + μb);  p −= lr·d */
__host__ __device__ static inline void
sgd_one (float *param, const float *grad, float *buf, float lr, float momentum,
         float dampening, float weight_decay, int nesterov, int first_step, size_t i)
{
  float d = grad[i] + weight_decay * param[i];
  if (momentum != 0.0f)
    {
      buf[i] = first_step ? d : momentum * buf[i] + (1.0f - dampening) * d;
      d = nesterov ? d + momentum * buf[i] : buf[i];
    }
  param[i] -= lr * d;
}

/* m = β₁m + (1−β₁)g;  v = β₂v + (1−β₂)g²;  p −= step_size · m / (√v / √(1−β₂ᵗ) + ε) */
__host__ __device__ static inline void
adam_one (float *param, const float *grad, float *m, float *v, float beta1, float beta2,
          float eps, float weight_decay, float step_size, float bc2_sqrt, size_t i)
{
  float g = grad[i] + weight_decay * param[i];
  m[i] = beta1 * m[i] + (1.0f - beta1) * g;
  v[i] = beta2 * v[i] + (1.0f - beta2) * g * g;
  float denom = sqrtf (v[i]) / bc2_sqrt + eps;
  param[i] -= step_size * m[i] / denom;
}

/* s = αs + (1−α)g²;  b = μb + g/(√s + ε);  p −= lr·b  (or lr·g/(√s + ε)) */
__host__ __device__ static inline void
rmsprop_one (float *param, const float *grad, float *square_avg, float *buf, float lr,
             float alpha, float eps, float weight_decay, float momentum, size_t i)
{
  float g = grad[i] + weight_decay * param[i];
  square_avg[i] = alpha * square_avg[i] + (1.0f - alpha) * g * g;
  float avg = sqrtf (square_avg[i]) + eps;
  if (momentum > 0.0f)
    {
      buf[i] = momentum * buf[i] + g / avg;
      param[i] -= lr * buf[i];
    }
  else
    param[i] -= lr * g / avg;
}

__global__ static void
sgd_kernel (float *param, const float *grad, float *buf, size_t n, float lr, float momentum,
            float dampening, float weight_decay, int nesterov, int first_step)
{
  CS_CUDA_FOR (i, n)
    sgd_one (param, grad, buf, lr, momentum, dampening, weight_decay, nesterov, first_step, i);
}

__global__ static void
adam_kernel (float *param, const float *grad, float *m, float *v, size_t n, float beta1,
             float beta2, float eps, float weight_decay, float step_size, float bc2_sqrt)
{
  CS_CUDA_FOR (i, n)
    adam_one (param, grad, m, v, beta1, beta2, eps, weight_decay, step_size, bc2_sqrt, i);
}

__global__ static void
rmsprop_kernel (float *param, const float *grad, float *square_avg, float *buf, size_t n,
                float lr, float alpha, float eps, float weight_decay, float momentum)
{
  CS_CUDA_FOR (i, n)
    rmsprop_one (param, grad, square_avg, buf, lr, alpha, eps, weight_decay, momentum, i);
}

extern "C" cudaError_t
cs_cuda_sgd_update (cudaStream_t s, float *param, const float *grad, float *buf, size_t n,
                    float lr, float momentum, float dampening, float weight_decay,
                    int nesterov, int first_step)
{
  CS_CUDA_LAUNCH (sgd_kernel, s, n, param, grad, buf, n, lr, momentum, dampening,
                  weight_decay, nesterov, first_step);
}

extern "C" cudaError_t
cs_cuda_sgd_update_emulate (cudaStream_t s, float *param, const float *grad, float *buf,
                            size_t n, float lr, float momentum, float dampening,
                            float weight_decay, int nesterov, int first_step)
{
  for (size_t i = 0; i < n; i++)
    sgd_one (param, grad, buf, lr, momentum, dampening, weight_decay, nesterov, first_step, i);
  return cudaSuccess;
}

extern "C" cudaError_t
cs_cuda_adam_update (cudaStream_t s, float *param, const float *grad, float *m, float *v,
                     size_t n, float beta1, float beta2, float eps, float weight_decay,
                     float step_size, float bc2_sqrt)
{
  CS_CUDA_LAUNCH (adam_kernel, s, n, param, grad, m, v, n, beta1, beta2, eps, weight_decay,
                  step_size, bc2_sqrt);
}

extern "C" cudaError_t
cs_cuda_adam_update_emulate (cudaStream_t s, float *param, const float *grad, float *m,
                             float *v, size_t n, float beta1, float beta2, float eps,
                             float weight_decay, float step_size, float bc2_sqrt)
{
  for (size_t i = 0; i < n; i++)
    adam_one (param, grad, m, v, beta1, beta2, eps, weight_decay, step_size, bc2_sqrt, i);
  return cudaSuccess;
}

extern "C" cudaError_t
cs_cuda_rmsprop_update (cudaStream_t s, float *param, const float *grad, float *square_avg,
                        float *buf, size_t n, float lr, float alpha, float eps,
                        float weight_decay, float momentum)
{
  CS_CUDA_LAUNCH (rmsprop_kernel, s, n, param, grad, square_avg, buf, n, lr, alpha, eps,
                  weight_decay, momentum);
}

extern "C" cudaError_t
cs_cuda_rmsprop_update_emulate (cudaStream_t s, float *param, const float *grad,
                                float *square_avg, float *buf, size_t n, float lr, float alpha,
                                float eps, float weight_decay, float momentum)
{
  for (size_t i = 0; i < n; i++)
    rmsprop_one (param, grad, square_avg, buf, lr, alpha, eps, weight_decay, momentum, i);
  return cudaSuccess;
}
