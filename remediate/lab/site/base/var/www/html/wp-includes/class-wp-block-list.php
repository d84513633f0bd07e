<?php
/**
 * WordPress-like lab stub for wp-includes/class-wp-block-list.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'class-wp-block-list.php';
