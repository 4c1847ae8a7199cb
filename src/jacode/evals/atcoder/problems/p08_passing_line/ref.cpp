#include <bits/stdc++.h>
using namespace std;

int main() {
    ios::sync_with_stdio(false);
    cin.tie(nullptr);
    int n, q;
    cin >> n >> q;
    vector<int> a(n);
    for (auto &x : a) cin >> x;
    sort(a.begin(), a.end());
    string out;
    while (q--) {
        int x;
        cin >> x;
        out += to_string(a.end() - lower_bound(a.begin(), a.end(), x));
        out += '\n';
    }
    cout << out;
    return 0;
}
