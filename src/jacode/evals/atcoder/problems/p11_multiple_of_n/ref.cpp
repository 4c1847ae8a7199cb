#include <bits/stdc++.h>
using namespace std;

int main() {
    ios::sync_with_stdio(false);
    cin.tie(nullptr);
    int n;
    cin >> n;
    vector<long long> a(n);
    for (auto &x : a) cin >> x;
    vector<int> seen(n, -1);
    seen[0] = 0;
    long long s = 0;
    for (int i = 1; i <= n; i++) {
        s = (s + a[i - 1]) % n;
        if (seen[s] >= 0) {
            int l = seen[s];
            string out = to_string(i - l) + "\n";
            for (int j = l + 1; j <= i; j++) {
                out += to_string(j);
                out += (j == i ? '\n' : ' ');
            }
            cout << out;
            return 0;
        }
        seen[s] = i;
    }
    return 1;
}
