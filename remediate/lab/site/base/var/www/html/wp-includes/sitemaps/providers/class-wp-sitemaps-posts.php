<?php
/**
 * WordPress-like lab stub for wp-includes/sitemaps/providers/class-wp-sitemaps-posts.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'sitemaps/providers/class-wp-sitemaps-posts.php';
