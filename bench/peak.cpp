// Peak float32 FMA throughput of this machine with T threads: independent
// accumulators so that only the FMA units limit it. Prints GFLOP/s.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

static float run(long iterations) {
  // 16 vectors of 16 floats: enough independent chains to fill two FMA pipes.
  typedef float v16 __attribute__((vector_size(64)));
  v16 acc[16];
  v16 a, b;
  for (int i = 0; i < 16; ++i) {
    a[i] = 1.0f + i * 1e-7f;
    b[i] = 0.999999f;
  }
  for (int j = 0; j < 16; ++j)
    acc[j] = a * (float)j;
  for (long i = 0; i < iterations; ++i)
    for (int j = 0; j < 16; ++j)
      acc[j] = acc[j] * b + a;
  float sum = 0;
  for (int j = 0; j < 16; ++j)
    for (int k = 0; k < 16; ++k)
      sum += acc[j][k];
  return sum;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? std::atoi(argv[1]) : 1;
  long iterations = 20000000;
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  std::vector<float> sink(threads);
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] { sink[t] = run(iterations); });
  for (auto &t : pool)
    t.join();
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  double flops = 2.0 * 16 * 16 * double(iterations) * threads;
  std::printf("%.1f\n", flops / seconds / 1e9 + 0 * sink[0]);
}
