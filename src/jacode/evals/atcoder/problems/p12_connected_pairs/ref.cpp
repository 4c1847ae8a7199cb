#include <bits/stdc++.h>
using namespace std;

struct DSU {
    vector<int> p;
    DSU(int n) : p(n, -1) {}
    int find(int x) { return p[x] < 0 ? x : p[x] = find(p[x]); }
};

int main() {
    ios::sync_with_stdio(false);
    cin.tie(nullptr);
    int n, q;
    cin >> n >> q;
    DSU d(n + 1);
    long long total = 0;
    string out;
    while (q--) {
        int u, v;
        cin >> u >> v;
        u = d.find(u);
        v = d.find(v);
        if (u != v) {
            if (d.p[u] > d.p[v]) swap(u, v);
            total += (long long)d.p[u] * d.p[v];
            d.p[u] += d.p[v];
            d.p[v] = u;
        }
        out += to_string(total);
        out += '\n';
    }
    cout << out;
    return 0;
}
