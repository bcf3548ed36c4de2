const params = new URLSearchParams({ limit: "20", source: "widget,api" });

const response = await fetch(
  `https://api-prod.usefini.com/v2/hc-interactions/public?${params}`,
  {
    headers: {
      Authorization: "Bearer fini_your_api_key",
    },
  }
);
const result = await response.json();
