<?php
/**
 * WordPress-like lab stub for wp-includes/class-wp-post.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'class-wp-post.php';
