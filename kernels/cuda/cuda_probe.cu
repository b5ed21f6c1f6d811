// cuda_probe.cu: the CUDA side of the backend, for now only the device probe.
// It is compiled whenever nvcc is present so that CI catches CUDA build
// breaks; the kernels of docs/inference.md land here later, each tested
// against the CPU reference.
#include <cuda_runtime.h>

extern "C" int lmz_cuda_device_count(void)
{
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
        cudaGetLastError();  // clear the sticky error
        return 0;
    }
    return n;
}
