#include <bits/stdc++.h>
using namespace std;

int main() {
    ios::sync_with_stdio(false);
    cin.tie(nullptr);
    int n;
    cin >> n;
    long long dist = 0;
    long double time = 0;
    for (int i = 0; i < n; i++) {
        long long d, v;
        cin >> d >> v;
        dist += d;
        time += (long double)d / v;
    }
    cout << fixed << setprecision(10) << (double)(dist / time) << "\n";
    return 0;
}
