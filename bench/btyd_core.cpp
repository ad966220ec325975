// The BG/NBD and Pareto/NBD fits in the C++ core alone (no PostgreSQL), on the same simulated
// summaries, CPU time of the best of three fits each. Build and run from the repository root:
//   cmake -S . -B build && cmake --build build --target pgs_core
//   g++ -O2 -std=c++17 -Isrc/core bench/btyd_core.cpp build/libpgs_core.a -o build/btyd_core
//   build/btyd_core CUSTOMERS [days|continuous] [MAX_AGE_WEEKS]
// Customers are drawn from a Pareto/NBD at the CDNOW estimates (r 0.55, alpha 10.58, s 0.61,
// beta 11.67 per week), ages uniform in 1..MAX_AGE_WEEKS (default 78). `days` rounds times to whole
// days, as rfm_summary does (customers sharing a summary become one weighted row); `continuous`
// keeps every recency and age distinct.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <vector>

#include "btyd/models.h"

using namespace pgs::core::btyd;

namespace {

std::vector<CountedSummary> simulate(std::size_t n, bool days, double max_age) {
    std::mt19937_64 gen(42);
    std::uniform_real_distribution<double> u(0, 1);
    std::gamma_distribution<double> lambda(0.55, 1 / 10.58), mu(0.61, 1 / 11.67);
    std::vector<CountedSummary> d;
    d.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        double T = 1 + (max_age - 1) * u(gen);
        const double l = lambda(gen), m = mu(gen);
        const double end = std::min(T, -std::log(u(gen)) / m);  // the drop-out time
        double t = 0, t_x = 0, x = 0;
        while ((t += -std::log(u(gen)) / l) <= end) ++x, t_x = t;
        if (days) {
            T = std::ceil(T * 7) / 7;
            t_x = x == 0 ? 0 : std::max(1 / 7.0, std::min(T, std::round(t_x * 7) / 7));
        }
        d.push_back({x, t_x, T, 1});
    }
    auto key_less = [](const CountedSummary& a, const CountedSummary& b) {
        return a.x != b.x ? a.x < b.x : a.t_x != b.t_x ? a.t_x < b.t_x : a.T < b.T;
    };
    std::sort(d.begin(), d.end(), key_less);
    std::vector<CountedSummary> out;
    for (const auto& r : d) {
        if (!out.empty() && out.back().x == r.x && out.back().t_x == r.t_x && out.back().T == r.T)
            out.back().count += 1;
        else
            out.push_back(r);
    }
    return out;
}

template <typename Fit>
double best_cpu_seconds(const Fit& fit) {
    double best = 1e300;
    for (int rep = 0; rep < 3; ++rep) {
        const std::clock_t t0 = std::clock();
        fit();
        best = std::min(best, double(std::clock() - t0) / CLOCKS_PER_SEC);
    }
    return best;
}

}  // namespace

int main(int argc, char** argv) {
    const std::size_t n = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 1000000;
    const bool days = !(argc > 2 && std::strcmp(argv[2], "continuous") == 0);
    const double max_age = argc > 3 ? std::atof(argv[3]) : 78;
    const std::vector<CountedSummary> d = simulate(n, days, max_age);
    std::printf("%zu customers, %zu distinct summaries (%s, ages up to %g weeks)\n", n, d.size(),
                days ? "whole days" : "continuous", max_age);
    Fitted<BgNbd> bg{};
    Fitted<ParetoNbd> pn{};
    const double t_bg = best_cpu_seconds([&] { bg = fit_bgnbd(d.data(), d.size(), nullptr); });
    const double t_pn = best_cpu_seconds([&] { pn = fit_paretonbd(d.data(), d.size(), nullptr); });
    std::printf("bgnbd_fit     %8.3f s  r %.4f alpha %.4f a %.4f b %.4f  %s\n", t_bg, bg.params.r, bg.params.alpha,
                bg.params.a, bg.params.b, bg.status.reason.c_str());
    std::printf("paretonbd_fit %8.3f s  r %.4f alpha %.4f s %.4f beta %.4f  %s\n", t_pn, pn.params.r,
                pn.params.alpha, pn.params.s, pn.params.beta, pn.status.reason.c_str());
    std::printf("paretonbd / bgnbd: %.2f\n", t_pn / t_bg);
    return 0;
}
