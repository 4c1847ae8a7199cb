#include <bits/stdc++.h>
using namespace std;

// Merge sort counting inversions (the Python reference uses a Fenwick tree).
long long sortCount(vector<int> &a, vector<int> &buf, int l, int r) {
    if (r - l <= 1) return 0;
    int m = (l + r) / 2;
    long long c = sortCount(a, buf, l, m) + sortCount(a, buf, m, r);
    int i = l, j = m, k = l;
    while (i < m || j < r) {
        if (j == r || (i < m && a[i] < a[j])) {
            buf[k++] = a[i++];
        } else {
            c += m - i;
            buf[k++] = a[j++];
        }
    }
    for (int t = l; t < r; t++) a[t] = buf[t];
    return c;
}

int main() {
    ios::sync_with_stdio(false);
    cin.tie(nullptr);
    int n;
    cin >> n;
    vector<int> p(n), buf(n);
    for (auto &x : p) cin >> x;
    cout << sortCount(p, buf, 0, n) << "\n";
    return 0;
}
