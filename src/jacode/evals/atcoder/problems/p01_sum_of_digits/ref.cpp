#include <bits/stdc++.h>
using namespace std;

int main() {
    ios::sync_with_stdio(false);
    cin.tie(nullptr);
    string s;
    cin >> s;
    long long total = 0;
    for (char c : s) total += c - '0';
    cout << total << "\n";
    return 0;
}
