#include <bits/stdc++.h>
using namespace std;

int main() {
    ios::sync_with_stdio(false);
    cin.tie(nullptr);
    int n;
    long long k;
    cin >> n >> k;
    vector<pair<long long, int>> a(n);
    for (int i = 0; i < n; i++) {
        cin >> a[i].first;
        a[i].second = i + 1;
    }
    sort(a.begin(), a.end());
    int l = 0, r = n - 1;
    while (l < r) {
        long long s = a[l].first + a[r].first;
        if (s == k) {
            int i = a[l].second, j = a[r].second;
            cout << min(i, j) << " " << max(i, j) << "\n";
            return 0;
        }
        if (s < k) l++;
        else r--;
    }
    cout << -1 << "\n";
    return 0;
}
