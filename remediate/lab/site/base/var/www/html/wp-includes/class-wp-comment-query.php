<?php
/**
 * WordPress-like lab stub for wp-includes/class-wp-comment-query.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'class-wp-comment-query.php';
