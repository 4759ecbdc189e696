"""The information resource sharing platform (信息资源共享平台): its population connector (人口库) and twin."""
