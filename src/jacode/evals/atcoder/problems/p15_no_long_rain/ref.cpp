#include <bits/stdc++.h>
using namespace std;

const long long MOD = 998244353;

int main() {
    long long n, k;
    cin >> n >> k;
    // g[i]: valid sequences of i days. h[m]: valid sequences of m days that are empty or end sunny
    // (h[0] = 1, h[m] = g[m-1]). A valid sequence of i days = h[m] + rain * (i-m) with i-m <= k.
    vector<long long> g(n + 1), pre(n + 2, 0);  // pre[m+1] = h[0] + ... + h[m]
    pre[1] = 1;
    g[0] = 1;
    for (long long i = 1; i <= n; i++) {
        long long hi = g[i - 1];
        pre[i + 1] = (pre[i] + hi) % MOD;
        long long lo = max(0LL, i - k);
        g[i] = ((pre[i + 1] - pre[lo]) % MOD + MOD) % MOD;
    }
    cout << g[n] << "\n";
    return 0;
}
